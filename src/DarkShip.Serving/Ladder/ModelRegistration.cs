using System.Globalization;
using DarkShip.Serving.Models;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Ladder;

/// <summary>A model file and its manifest offered as a new version.</summary>
/// <param name="Name">The model's name (the manifest must be for it).</param>
/// <param name="Model">The model file.</param>
/// <param name="Manifest">The manifest file.</param>
/// <param name="Version">The version label; default: the manifest's, else one above the highest numeric version.</param>
public sealed record RegistrationRequest(string Name, ReadOnlyMemory<byte> Model, ReadOnlyMemory<byte> Manifest, string? Version = null);

/// <summary>What a registration came to. Outcomes are values, not exceptions.</summary>
public abstract record RegistrationOutcome
{
    private RegistrationOutcome()
    {
    }

    /// <summary>The files are uploaded and the version is in the registry, stage Registered.</summary>
    public sealed record Registered(ModelVersion Version, IReadOnlyList<ModelEvent> Events) : RegistrationOutcome;

    /// <summary>The files cannot serve, or the name or version is unusable; nothing was uploaded. Every problem is listed.</summary>
    public sealed record Invalid(IReadOnlyList<string> Problems) : RegistrationOutcome;

    /// <summary>That version is registered already (versions are immutable); nothing was uploaded.</summary>
    public sealed record AlreadyRegistered(string Name, string Version) : RegistrationOutcome;

    /// <summary>The files were uploaded but the ladder refused the version (registered concurrently by someone else).</summary>
    public sealed record Refused(string Reason) : RegistrationOutcome;
}

/// <summary>
/// Registering a model version, the one way in for operators and the demo: the files are read and
/// checked against each other and the feature store (<see cref="ModelLoader"/>), every problem is
/// reported at once and nothing is uploaded unless all is well; then both files are uploaded (the store
/// keeps their SHA-256) and the version enters the ladder at Registered, with the audit event.
/// </summary>
public sealed class ModelRegistration(IModelRegistry registry, IModelArtifactStore artifacts, ModelLadder ladder, ModelLoader loader)
{
    /// <summary>Checks, uploads and registers <paramref name="request"/>; problems name the files <paramref name="modelLabel"/> and <paramref name="manifestLabel"/>.</summary>
    public async Task<RegistrationOutcome> RegisterAsync(RegistrationRequest request, LadderActor actor, CancellationToken cancellationToken, string modelLabel = "model", string manifestLabel = "manifest")
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        if (!ModelLadder.IsValidName(request.Name))
        {
            return new RegistrationOutcome.Invalid([$"'{request.Name}' is not a model name. {ModelLadder.ModelNameRule}"]);
        }

        var check = await loader.CheckAsync(request.Model, request.Manifest, request.Name, cancellationToken, modelLabel, manifestLabel).ConfigureAwait(false);
        var problems = new List<string>(check.Problems);
        var known = (await registry.ReadAsync(cancellationToken).ConfigureAwait(false)).Of(request.Name);
        var version = request.Version ?? check.Manifest?.Version ?? NextVersion(known);
        var exists = false;
        if (!ModelLadder.IsValidVersion(version))
        {
            problems.Add($"'{version}' is not a version label (a letter or digit, then up to 63 letters, digits, '.', '_' or '-')");
        }
        else if (known.Any(v => v.Version == version))
        {
            exists = true;
            problems.Add($"{request.Name} version {version} is already registered; versions are immutable, give a new version");
        }

        if (exists && problems.Count == 1)
        {
            return new RegistrationOutcome.AlreadyRegistered(request.Name, version);
        }

        if (problems.Count > 0 || !check.IsValid)
        {
            return new RegistrationOutcome.Invalid(problems);
        }

        var modelPath = ModelArtifactPaths.Model(request.Name, version, check.Format ?? ModelFormat.XGBoost);
        var manifestPath = ModelArtifactPaths.Manifest(request.Name, version);
        var modelSha = await artifacts.UploadAsync(modelPath, request.Model, cancellationToken).ConfigureAwait(false);
        var manifestSha = await artifacts.UploadAsync(manifestPath, request.Manifest, cancellationToken).ConfigureAwait(false);
        var evidence = new Dictionary<string, string>(actor.Evidence ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["artifactSha256"] = modelSha,
            ["manifestSha256"] = manifestSha,
            ["format"] = ModelLoader.Name(check.Format ?? ModelFormat.XGBoost),
            ["features"] = check.Model!.FeatureCount.ToString(CultureInfo.InvariantCulture),
        };
        var row = new ModelVersion(request.Name, version, ModelStage.Registered, 0, modelPath, modelSha, manifestPath, manifestSha, default);
        return await ladder.RegisterAsync(row, actor with { Evidence = evidence }, cancellationToken).ConfigureAwait(false) switch
        {
            LadderOutcome.Changed changed => new RegistrationOutcome.Registered(row, changed.Events),
            LadderOutcome.Refused refused => new RegistrationOutcome.Refused(refused.Reason),
            LadderOutcome.Conflict conflict => new RegistrationOutcome.Refused(conflict.Reason),
            var other => throw new InvalidOperationException($"Unexpected ladder outcome {other}."),
        };
    }

    private static string NextVersion(IReadOnlyList<ModelVersion> known) =>
        (known.Select(v => int.TryParse(v.Version, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).DefaultIfEmpty(0).Max() + 1).ToString(CultureInfo.InvariantCulture);
}
