using DarkShip.Scoring;
using DarkShip.Serving.Features;

namespace DarkShip.Serving.Manifests;

/// <summary>Holds a manifest against the model it describes and the feature groups it reads.</summary>
public static class ManifestValidator
{
    /// <summary>
    /// Every way <paramref name="manifest"/> disagrees with <paramref name="model"/> (column count and
    /// names, output count) or with the feature store (a group never ingested, a property it lacks,
    /// a stored type the feature cannot read). Empty when the pair can serve.
    /// </summary>
    public static IReadOnlyList<string> Validate(ModelManifest manifest, IModel model, IReadOnlyDictionary<string, FeatureGroupSchema?> schemas)
    {
        var errors = new List<string>();
        if (manifest.Features.Count != model.FeatureCount)
        {
            errors.Add($"the manifest lists {manifest.Features.Count} features; the model reads {model.FeatureCount}");
        }
        else if (model.FeatureNames.Count == model.FeatureCount)
        {
            for (var i = 0; i < model.FeatureCount; i++)
            {
                if (!string.Equals(model.FeatureNames[i], manifest.Features[i].Name, StringComparison.Ordinal))
                {
                    errors.Add($"features[{i}]: the manifest names it '{manifest.Features[i].Name}'; the model's column {i} is '{model.FeatureNames[i]}'");
                }
            }
        }

        var outputs = model.GetOutputCount(OutputKind.Transformed);
        if (manifest.Output == ModelOutput.Multiclass ? outputs < 2 : outputs != 1)
        {
            errors.Add($"output: the manifest says {manifest.Output.ToString().ToLowerInvariant()}; the model gives {outputs} output(s)");
        }

        errors.AddRange(ValidateFeatures(manifest, schemas));
        return errors;
    }

    /// <summary>
    /// Every way <paramref name="manifest"/>'s stored features disagree with the feature store: a group
    /// never ingested, a property it lacks, a stored type the feature cannot read. Empty when all can be read.
    /// </summary>
    public static IReadOnlyList<string> ValidateFeatures(ModelManifest manifest, IReadOnlyDictionary<string, FeatureGroupSchema?> schemas)
    {
        var errors = new List<string>();
        for (var i = 0; i < manifest.Features.Count; i++)
        {
            var feature = manifest.Features[i];
            if (feature.Group is null)
            {
                continue;
            }

            if (schemas.GetValueOrDefault(feature.Group) is not { } schema)
            {
                errors.Add($"features[{i}] '{feature.Name}': group '{feature.Group}' holds no ingested features");
                continue;
            }

            if (!schema.Properties.TryGetValue(feature.Property, out var stored))
            {
                errors.Add($"features[{i}] '{feature.Name}': group '{feature.Group}' has no property '{feature.Property}'");
                continue;
            }

            var readable = feature.Type switch
            {
                ManifestFeatureType.Category => stored == FeatureType.Text,
                _ => stored is FeatureType.Number or FeatureType.Boolean,
            };
            if (!readable)
            {
                errors.Add($"features[{i}] '{feature.Name}': a {feature.Type.ToString().ToLowerInvariant()} feature cannot read '{feature.Group}.{feature.Property}', which holds {stored.ToString().ToLowerInvariant()} values");
            }
        }

        return errors;
    }
}
