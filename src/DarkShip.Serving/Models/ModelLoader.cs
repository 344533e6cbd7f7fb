using System.Runtime.CompilerServices;
using DarkShip.Scoring;
using DarkShip.Scoring.MLNet;
using DarkShip.Scoring.Onnx;
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
    /// <summary>
    /// Compiles a model file in the format <paramref name="manifest"/> names, else the one its bytes show.
    /// ML.NET and ONNX models are bound to the manifest's features by name (without a manifest, to their
    /// own columns); each library's assemblies load only when a model of its format is compiled.
    /// </summary>
    /// <exception cref="ModelFormatException">It is not a model DarkShip can score, or not one the manifest describes; <see cref="ModelFormatException.Problems"/> lists every reason.</exception>
    public static IModel Compile(ReadOnlySpan<byte> model, ModelManifest? manifest = null)
    {
        var format = FormatFor(model, manifest);
        if (format is { } declared && DetectFormat(model) is { } found && declared != found)
        {
            throw new ModelFormatException($"the manifest says {Name(declared)}, and the file is {Describe(found)}");
        }

        var signature = manifest is null ? null : Signature(manifest);
        return format switch
        {
            ModelFormat.XGBoost => XGBoostModelReader.Parse(model),
            ModelFormat.MLNet => CompileMLNet(model, signature),
            ModelFormat.Onnx => CompileOnnx(model, signature),
            _ => throw new ModelFormatException("the file is none of the formats DarkShip scores: an XGBoost JSON model, an ML.NET .zip or an ONNX model"),
        };
    }

    /// <summary>The format <paramref name="manifest"/> names, else the one <paramref name="model"/>'s first bytes show; <see langword="null"/> when neither says.</summary>
    public static ModelFormat? FormatFor(ReadOnlySpan<byte> model, ModelManifest? manifest) =>
        manifest?.Format is { } named ? FormatOf(named) : DetectFormat(model);

    /// <summary>The format a model file is in, from its first bytes; <see langword="null"/> when it is none DarkShip knows.</summary>
    /// <remarks>XGBoost JSON opens with <c>{</c> (after an optional BOM and white space); an ML.NET model is a zip
    /// (<c>PK\x03\x04</c>); an ONNX model is a protobuf <c>ModelProto</c>, whose first field is <c>ir_version</c> (tag <c>0x08</c>).</remarks>
    public static ModelFormat? DetectFormat(ReadOnlySpan<byte> model)
    {
        if (model.StartsWith("PK\x03\x04"u8))
        {
            return ModelFormat.MLNet;
        }

        if (model.Length > 1 && model[0] == 0x08 && model[1] is > 0 and < 0x80)
        {
            return ModelFormat.Onnx;
        }

        var text = model.StartsWith("\uFEFF"u8) ? model[3..] : model;
        var start = text.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && text[start] == (byte)'{' ? ModelFormat.XGBoost : null;
    }

    /// <summary>The format a manifest's <c>format</c> names.</summary>
    public static ModelFormat FormatOf(string manifestFormat) => manifestFormat switch
    {
        ModelManifest.MLNet => ModelFormat.MLNet,
        ModelManifest.Onnx => ModelFormat.Onnx,
        _ => ModelFormat.XGBoost,
    };

    /// <summary>A format as a manifest names it.</summary>
    public static string Name(ModelFormat format) => format switch
    {
        ModelFormat.MLNet => ModelManifest.MLNet,
        ModelFormat.Onnx => ModelManifest.Onnx,
        _ => ModelManifest.XGBoostJson,
    };

    /// <summary>What the model must read and give, as the manifest says it.</summary>
    public static ModelSignature Signature(ModelManifest manifest) => new(
        [.. manifest.Features.Select(f => new ModelInput(f.Name, f.Type switch
        {
            ManifestFeatureType.Boolean => InputKind.Boolean,
            ManifestFeatureType.Category => InputKind.Category,
            _ => InputKind.Number,
        }, f.Categories))],
        manifest.Output switch
        {
            ModelOutput.Probability => ModelTask.Probability,
            ModelOutput.Multiclass => ModelTask.Multiclass,
            _ => ModelTask.Regression,
        },
        manifest.Classes);

    // Each library behind a method of its own, not inlined: its assemblies load when it is first called, not when Compile is.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IModel CompileMLNet(ReadOnlySpan<byte> model, ModelSignature? signature) => MLNetModelReader.Read(model, signature);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IModel CompileOnnx(ReadOnlySpan<byte> model, ModelSignature? signature) => OnnxModelReader.Read(model, signature);

    private static string Describe(ModelFormat format) => format switch
    {
        ModelFormat.MLNet => "an ML.NET model (a zip)",
        ModelFormat.Onnx => "an ONNX model",
        _ => "an XGBoost JSON model",
    };

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
            compiled = Compile(model.Span, parsed);
        }
        catch (ModelFormatException e)
        {
            problems.AddRange(e.Problems.Select(problem => $"{modelLabel}: not a model DarkShip can score{(parsed is null ? "" : " with this manifest")}: {problem}"));
        }

        var format = FormatFor(model.Span, parsed);
        if (parsed is null)
        {
            return new ModelCheck(null, compiled, problems, format);
        }

        if (name is not null && !string.Equals(parsed.Name, name, StringComparison.Ordinal))
        {
            problems.Add($"{manifestLabel}: it is for '{parsed.Name}', not '{name}'");
        }

        var schemas = await SchemasAsync(parsed, cancellationToken).ConfigureAwait(false);
        problems.AddRange(compiled is null ? ManifestValidator.ValidateFeatures(parsed, schemas) : ManifestValidator.Validate(parsed, compiled, schemas));
        if (compiled is not null && problems.Count == 0 && TrialScore(compiled, parsed) is { } failed)
        {
            problems.Add($"{modelLabel}: a trial score of the manifest's default row failed: {failed}");
        }

        return new ModelCheck(parsed, compiled, problems, format);
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
    /// Downloads a registered version's files (each checked against its SHA-256) and checks them as
    /// <see cref="CheckAsync"/> does; its trial score of the default row warms the model, so the first real
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

    /// <summary>Scores one row of the manifest's defaults; the failure's message, or <see langword="null"/> when it scored.</summary>
    private static string? TrialScore(IModel model, ModelManifest manifest)
    {
        try
        {
            model.Predict([.. manifest.Features.Select(f => f.Default)], new float[model.GetOutputCount(OutputKind.Transformed)]);
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return e.Message;
        }
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

    /// <summary>An ML.NET model (<c>MLContext.Model.Save</c> with its input schema), scored by ML.NET.</summary>
    MLNet,

    /// <summary>An ONNX model, scored by ONNX Runtime on the CPU.</summary>
    Onnx,
}

/// <summary>A model file and its manifest as read and checked by <see cref="ModelLoader"/>.</summary>
/// <param name="Manifest">The manifest, when it parsed.</param>
/// <param name="Model">The compiled model, when it compiled.</param>
/// <param name="Problems">Every reason the pair cannot serve; empty when it can.</param>
/// <param name="Format">The model's format, as the manifest names it or the file shows it, when known.</param>
public sealed record ModelCheck(ModelManifest? Manifest, IModel? Model, IReadOnlyList<string> Problems, ModelFormat? Format = null)
{
    /// <summary>Whether the pair can serve.</summary>
    public bool IsValid => Problems.Count == 0 && Manifest is not null && Model is not null;

    /// <summary>
    /// The pair as a version ready to score. A valid check has already scored the manifest's default row
    /// (<see cref="ModelLoader.CheckAsync"/>'s trial score), which also warmed the model for the first request.
    /// </summary>
    /// <exception cref="ManifestException">The pair cannot serve.</exception>
    public LoadedModel ToLoaded(ModelVersion version)
    {
        if (!IsValid)
        {
            throw new ManifestException(Problems);
        }

        return new LoadedModel(version, Manifest!, Model!, new FeaturePlan(Manifest!));
    }
}
