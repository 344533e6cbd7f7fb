using System.Globalization;
using System.Text.Json;
using DarkShip.Serving.Features;

namespace DarkShip.Serving.Manifests;

/// <summary>
/// Reads a manifest (JSON) and checks that it is complete and consistent on its own. Every problem
/// is reported at once, by JSON path, so an operator fixes a manifest in one pass.
/// </summary>
/// <remarks>
/// The shape, with defaults:
/// <code>
/// { "name": "fraud", "version": "7", "format": "xgboost-json", "output": "probability",
///   "groups": { "consumer": { "required": false, "cacheSeconds": 0 } },
///   "assignmentGroup": "consumer",
///   "features": [ { "name": "txn_count_7d", "group": "consumer", "property": "txn_count_7d",
///                   "type": "number", "default": null, "min": 0, "max": 1e6, "maxAgeSeconds": 86400,
///                   "categories": null } ],
///   "decision": { "threshold": 0.8, "above": "review", "below": "approve" },
///   "promotionMetric": "logloss",
///   "baseline": { … } }
/// </code>
/// </remarks>
public static class ManifestReader
{
    /// <summary>Parses and checks <paramref name="utf8Json"/>.</summary>
    /// <exception cref="ManifestException">The manifest is malformed or inconsistent.</exception>
    public static ModelManifest Parse(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new ManifestException([$"not valid JSON (line {e.LineNumber + 1}): {e.Message}"]);
        }

        using (doc)
        {
            var errors = new List<string>();
            var manifest = Read(doc.RootElement, errors);
            return errors.Count == 0 ? manifest! : throw new ManifestException(errors);
        }
    }

    private static ModelManifest? Read(JsonElement root, List<string> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("the manifest is a JSON object");
            return null;
        }

        var name = String(root, "name", "name", errors, required: true) ?? "";
        var version = root.TryGetProperty("version", out var v) ? v.ValueKind == JsonValueKind.Number ? v.GetRawText() : String(root, "version", "version", errors, required: false) : null;
        var format = String(root, "format", "format", errors, required: false) ?? ModelManifest.XGBoostJson;
        if (format != ModelManifest.XGBoostJson)
        {
            errors.Add($"format: '{format}' is not supported (only '{ModelManifest.XGBoostJson}')");
        }

        var output = Enum<ModelOutput>(String(root, "output", "output", errors, required: true), "output", errors);

        var groups = new List<ManifestGroup>();
        if (root.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in g.EnumerateObject())
            {
                var path = $"groups.{p.Name}";
                if (!FeatureGroups.IsValidName(p.Name))
                {
                    errors.Add($"{path}: a group name is a letter then up to 39 letters or digits");
                }

                var required = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True;
                var cacheSeconds = Number(p.Value, "cacheSeconds", path + ".cacheSeconds", errors) ?? 0;
                if (cacheSeconds < 0)
                {
                    errors.Add($"{path}.cacheSeconds: must not be negative");
                }

                groups.Add(new ManifestGroup(p.Name, required, TimeSpan.FromSeconds(Math.Max(0, cacheSeconds))));
            }
        }
        else if (root.TryGetProperty("groups", out _))
        {
            errors.Add("groups: an object of group name → { required, cacheSeconds }");
        }

        var features = new List<ManifestFeature>();
        if (root.TryGetProperty("features", out var f) && f.ValueKind == JsonValueKind.Array)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var i = 0;
            foreach (var item in f.EnumerateArray())
            {
                var feature = ReadFeature(item, $"features[{i}]", groups, errors);
                if (feature is not null && !names.Add(feature.Name))
                {
                    errors.Add($"features[{i}].name: '{feature.Name}' appears twice");
                }

                if (feature is not null)
                {
                    features.Add(feature);
                }

                i++;
            }

            if (i == 0)
            {
                errors.Add("features: a model reads at least one feature");
            }
        }
        else
        {
            errors.Add("features: required, an array in the model's column order");
        }

        DecisionRule? decision = null;
        if (root.TryGetProperty("decision", out var d) && d.ValueKind == JsonValueKind.Object)
        {
            var threshold = Number(d, "threshold", "decision.threshold", errors);
            var above = String(d, "above", "decision.above", errors, required: true);
            var below = String(d, "below", "decision.below", errors, required: true);
            if (threshold is not { } t || t <= 0 || t >= 1)
            {
                errors.Add("decision.threshold: a probability strictly between 0 and 1");
            }
            else if (above is not null && below is not null)
            {
                decision = new DecisionRule(t, above, below);
            }

            if (output != ModelOutput.Probability)
            {
                errors.Add("decision: only a probability model has a decision threshold");
            }
        }

        var metric = String(root, "promotionMetric", "promotionMetric", errors, required: false)
            ?? (output == ModelOutput.Regression ? "rmse" : "logloss");
        var assignment = String(root, "assignmentGroup", "assignmentGroup", errors, required: false) ?? groups.FirstOrDefault()?.Name;
        if (assignment is not null && groups.All(x => x.Name != assignment))
        {
            errors.Add($"assignmentGroup: '{assignment}' is not one of the manifest's groups");
        }

        var baseline = root.TryGetProperty("baseline", out var b) && b.ValueKind == JsonValueKind.Object ? b.GetRawText() : null;
        return new ModelManifest(name, version, format, output, groups, features, decision, metric, assignment, baseline);
    }

    private static ManifestFeature? ReadFeature(JsonElement item, string path, List<ManifestGroup> groups, List<string> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{path}: a feature is an object");
            return null;
        }

        var name = String(item, "name", path + ".name", errors, required: true);
        if (name is null)
        {
            return null;
        }

        var group = String(item, "group", path + ".group", errors, required: false);
        if (group is not null && groups.All(x => x.Name != group))
        {
            errors.Add($"{path}.group: '{group}' is not declared under groups");
        }

        var property = String(item, "property", path + ".property", errors, required: false) ?? name;
        var type = Enum<ManifestFeatureType>(String(item, "type", path + ".type", errors, required: false) ?? "number", path + ".type", errors);
        var min = Number(item, "min", path + ".min", errors);
        var max = Number(item, "max", path + ".max", errors);
        if (min > max)
        {
            errors.Add($"{path}: min {min} is above max {max}");
        }

        var maxAgeSeconds = Number(item, "maxAgeSeconds", path + ".maxAgeSeconds", errors);
        if (maxAgeSeconds <= 0)
        {
            errors.Add($"{path}.maxAgeSeconds: must be positive");
        }

        IReadOnlyList<string>? categories = null;
        if (item.TryGetProperty("categories", out var c) && c.ValueKind == JsonValueKind.Array)
        {
            categories = [.. c.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText())];
        }

        if (type == ManifestFeatureType.Category && categories is not { Count: > 0 })
        {
            errors.Add($"{path}.categories: a category feature lists its labels");
        }

        var fallback = float.NaN;
        if (item.TryGetProperty("default", out var def) && def.ValueKind != JsonValueKind.Null)
        {
            switch (type, def.ValueKind)
            {
                case (ManifestFeatureType.Number, JsonValueKind.Number):
                    fallback = (float)def.GetDouble();
                    if (def.GetDouble() < min || def.GetDouble() > max)
                    {
                        errors.Add($"{path}.default: {def.GetDouble().ToString(CultureInfo.InvariantCulture)} is outside [{min}, {max}]");
                    }

                    break;
                case (ManifestFeatureType.Boolean, JsonValueKind.True or JsonValueKind.False):
                    fallback = def.GetBoolean() ? 1f : 0f;
                    break;
                case (ManifestFeatureType.Category, JsonValueKind.String):
                    var index = categories?.ToList().IndexOf(def.GetString()!) ?? -1;
                    if (index < 0)
                    {
                        errors.Add($"{path}.default: '{def.GetString()}' is not one of its categories");
                    }

                    fallback = index;
                    break;
                default:
                    errors.Add($"{path}.default: a {type.ToString().ToLowerInvariant()} feature's default is {(type == ManifestFeatureType.Number ? "a number" : type == ManifestFeatureType.Boolean ? "true or false" : "one of its labels")}, or null");
                    break;
            }
        }

        return new ManifestFeature(name, group, property, type, fallback, min, max, maxAgeSeconds is { } s ? TimeSpan.FromSeconds(s) : null, categories);
    }

    private static string? String(JsonElement obj, string property, string path, List<string> errors, bool required)
    {
        if (!obj.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add($"{path}: required");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } text)
        {
            errors.Add($"{path}: a non-empty string");
            return null;
        }

        return text;
    }

    private static double? Number(JsonElement obj, string property, string path, List<string> errors)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            errors.Add($"{path}: a number");
            return null;
        }

        return value.GetDouble();
    }

    private static T Enum<T>(string? text, string path, List<string> errors)
        where T : struct, Enum
    {
        if (text is null)
        {
            return default;
        }

        if (!System.Enum.TryParse<T>(text, ignoreCase: true, out var value) || int.TryParse(text, CultureInfo.InvariantCulture, out _))
        {
            errors.Add($"{path}: '{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
        }

        return value;
    }
}
