using DarkShip.Scoring;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Models;

/// <summary>
/// The one place a model file and its manifest become something that can score: the file compiled to
/// an <see cref="IModel"/>, the manifest parsed, and the two held against each other and against the
/// feature store. The model cache, registration, replay and <c>score</c> all load through it, so a model
/// format is learnt once.
/// </summary>
public sealed class ModelLoader(IFeatureStore features)
{
    /// <summary>Compiles a model file.</summary>
    /// <exception cref="ModelFormatException">It is not a model DarkShip can score.</exception>
    public static IModel Compile(ReadOnlySpan<byte> model) => DetectFormat(model) switch
    {
        ModelFormat.XGBoost => XGBoostModelReader.Parse(model),
        _ => throw new ModelFormatException("the file is neither an XGBoost JSON model nor any other format DarkShip scores"),
    };

    /// <summary>The format a model file is in, from its first bytes; <see langword="null"/> when it is none DarkShip knows.</summary>
    public static ModelFormat? DetectFormat(ReadOnlySpan<byte> model)
    {
        var text = model.StartsWith("\uFEFF"u8) ? model[3..] : model;
        var start = text.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && text[start] == (byte)'{' ? ModelFormat.XGBoost : null;
    }

    /// <summary>
    /// Parses <paramref name="manifest"/> and compiles <paramref name="model"/>, then holds them against
    /// each other and the feature store. Every problem is reported at once, each a line an operator can act on.
    /// </summary>
    /// <param name="model">The model file.</param>
    /// <param name="manifest">The manifest file.</param>
    /// <param name="name">The model name it must be for, if any.</param>
    /// <param name="cancellationToken">Cancels the feature store reads.</param>
    /// <param name="modelLabel">How problems name the model file (e.g. its file name).</param>
    /// <param name="manifestLabel">How problems name the manifest file.</param>
    public async Task<ModelCheck> CheckAsync(ReadOnlyMemory<byte> model, ReadOnlyMemory<byte> manifest, string? name, CancellationToken cancellationToken, string modelLabel = "model", string manifestLabel = "manifest")
    {
        var problems = new List<string>();
        var parsed = Parse(manifest, manifestLabel, problems);
        IModel? compiled = null;
        try
        {
            compiled = Compile(model.Span);
        }
        catch (ModelFormatException e)
        {
            problems.Add($"{modelLabel}: not a model DarkShip can score: {e.Message}");
        }

        if (parsed is null)
        {
            return new ModelCheck(null, compiled, problems);
        }

        if (name is not null && !string.Equals(parsed.Name, name, StringComparison.Ordinal))
        {
            problems.Add($"{manifestLabel}: it is for '{parsed.Name}', not '{name}'");
        }

        var schemas = await SchemasAsync(parsed, cancellationToken).ConfigureAwait(false);
        problems.AddRange(compiled is null ? ManifestValidator.ValidateFeatures(parsed, schemas) : ManifestValidator.Validate(parsed, compiled, schemas));
        return new ModelCheck(parsed, compiled, problems);
    }

    /// <summary>A manifest file on its own (no model), checked against the feature store.</summary>
    public async Task<(ModelManifest? Manifest, IReadOnlyList<string> Problems)> CheckManifestAsync(ReadOnlyMemory<byte> manifest, CancellationToken cancellationToken, string manifestLabel = "manifest")
    {
        var problems = new List<string>();
        if (Parse(manifest, manifestLabel, problems) is not { } parsed)
        {
            return (null, problems);
        }

        problems.AddRange(ManifestValidator.ValidateFeatures(parsed, await SchemasAsync(parsed, cancellationToken).ConfigureAwait(false)));
        return (problems.Count == 0 ? parsed : null, problems);
    }

    /// <summary>
    /// Downloads a registered version's files (each checked against its SHA-256), checks them as
    /// <see cref="CheckAsync"/> does, and warms the model with one throw-away row so the first real
    /// request does not pay for it.
    /// </summary>
    /// <exception cref="ModelArtifactException">A file is missing or does not match its SHA-256.</exception>
    /// <exception cref="ManifestException">The pair cannot serve; its <see cref="ManifestException.Errors"/> say why.</exception>
    public async Task<LoadedModel> LoadAsync(ModelVersion version, IModelArtifactStore artifacts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(artifacts);
        var model = artifacts.DownloadAsync(version.ArtifactPath, version.ArtifactSha256, cancellationToken);
        var manifest = artifacts.DownloadAsync(version.ManifestPath, version.ManifestSha256, cancellationToken);
        var check = await CheckAsync(await model.ConfigureAwait(false), await manifest.ConfigureAwait(false), version.Name, cancellationToken).ConfigureAwait(false);
        return check.ToLoaded(version);
    }

    /// <summary>The manifest, or <see langword="null"/> with its defects added to <paramref name="problems"/>, each prefixed by <paramref name="label"/>.</summary>
    private static ModelManifest? Parse(ReadOnlyMemory<byte> manifest, string label, List<string> problems)
    {
        try
        {
            return ManifestReader.Parse(manifest.Span);
        }
        catch (ManifestException e)
        {
            problems.AddRange(e.Errors.Select(error => $"{label}: {error}"));
            return null;
        }
    }

    private async Task<Dictionary<string, FeatureGroupSchema?>> SchemasAsync(ModelManifest manifest, CancellationToken cancellationToken)
    {
        var schemas = new Dictionary<string, FeatureGroupSchema?>(StringComparer.Ordinal);
        foreach (var group in manifest.Groups)
        {
            schemas[group.Name] = await features.GetSchemaAsync(group.Name, cancellationToken).ConfigureAwait(false);
        }

        return schemas;
    }
}

/// <summary>The model file formats DarkShip scores.</summary>
public enum ModelFormat
{
    /// <summary>An XGBoost JSON model (<c>Booster.save_model("model.json")</c>), scored by DarkShip's own engine.</summary>
    XGBoost,
}

/// <summary>A model file and its manifest as read and checked by <see cref="ModelLoader"/>.</summary>
/// <param name="Manifest">The manifest, when it parsed.</param>
/// <param name="Model">The compiled model, when it compiled.</param>
/// <param name="Problems">Every reason the pair cannot serve; empty when it can.</param>
public sealed record ModelCheck(ModelManifest? Manifest, IModel? Model, IReadOnlyList<string> Problems)
{
    /// <summary>Whether the pair can serve.</summary>
    public bool IsValid => Problems.Count == 0 && Manifest is not null && Model is not null;

    /// <summary>The pair as a version ready to score, after one throw-away row.</summary>
    /// <exception cref="ManifestException">The pair cannot serve.</exception>
    public LoadedModel ToLoaded(ModelVersion version)
    {
        if (!IsValid)
        {
            throw new ManifestException(Problems);
        }

        Model!.Predict(new float[Model.FeatureCount], new float[Model.GetOutputCount(OutputKind.Transformed)]);
        return new LoadedModel(version, Manifest!, Model, new FeaturePlan(Manifest!));
    }
}
