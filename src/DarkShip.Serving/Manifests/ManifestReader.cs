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
/// { "name": "fraud", "version": "7", "format": "xgboost-json" | "mlnet" | "onnx" (default: what the file is),
///   "output": "probability" | "regression" | "multiclass", "classes": [ … ] (multiclass only),
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
    /// <summary>Longest <c>cacheSeconds</c> or <c>maxAgeSeconds</c> accepted: ten years.</summary>
    public const double MaxSeconds = 10 * 365 * 86_400.0;

    /// <summary>Parses and checks <paramref name="utf8Json"/>.</summary>
    /// <exception cref="ManifestException">The manifest is malformed or inconsistent.</exception>
    public static ModelManifest Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (FirstInvalidUtf8(utf8Json) is { } bad)
        {
            throw new ManifestException([$"not valid UTF-8 (byte {bad}): save the manifest as UTF-8"]);
        }

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
            DuplicateMembers(doc.RootElement, "", errors);
            var manifest = Read(doc.RootElement, errors);
            return errors.Count == 0 ? manifest! : throw new ManifestException(errors);
        }
    }

    private static int? FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length;)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[i..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return i;
            }

            i += consumed;
        }

        return null;
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
        var format = String(root, "format", "format", errors, required: false) switch
        {
            null => null, // the model file says
            "xgboost" => ModelManifest.XGBoostJson,
            var named when ModelManifest.Formats.Contains(named) => named,
            var other => Unsupported(other, errors),
        };

        var output = Enum<ModelOutput>(String(root, "output", "output", errors, required: true), "output", errors);

        var groups = new List<ManifestGroup>();
        if (root.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in g.EnumerateObject())
            {
                var path = $"groups.{p.Name}";
                if (groups.Any(x => x.Name == p.Name))
                {
                    continue; // reported by DuplicateMembers
                }

                if (!FeatureGroups.IsValidName(p.Name))
                {
                    errors.Add($"{path}: a group name is a letter then up to 39 letters or digits");
                }

                var required = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.True;
                var cacheSeconds = Number(p.Value, "cacheSeconds", path + ".cacheSeconds", errors) ?? 0;
                if (cacheSeconds is < 0 or > MaxSeconds)
                {
                    errors.Add($"{path}.cacheSeconds: 0 to {MaxSeconds:0} seconds");
                    cacheSeconds = 0;
                }

                groups.Add(new ManifestGroup(p.Name, required, TimeSpan.FromSeconds(cacheSeconds)));
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

        string? baseline = null;
        if (root.TryGetProperty("baseline", out var b) && b.ValueKind != JsonValueKind.Null)
        {
            if (b.ValueKind != JsonValueKind.Object)
            {
                errors.Add("baseline: an object with 'features' and 'prediction' histograms");
            }
            else
            {
                Baseline(b, features, errors);
                baseline = b.GetRawText();
            }
        }

        var classes = Classes(root, output, errors);
        return new ModelManifest(name, version, format, output, groups, features, decision, metric, assignment, baseline, classes);
    }

    private static string? Unsupported(string format, List<string> errors)
    {
        errors.Add($"format: '{format}' is not one DarkShip scores ({string.Join(", ", ModelManifest.Formats)}; or leave it out and the model file says)");
        return null;
    }

    /// <summary><c>classes</c>: a multiclass model's labels in output order, each once.</summary>
    private static List<string>? Classes(JsonElement root, ModelOutput? output, List<string> errors)
    {
        if (!root.TryGetProperty("classes", out var c) || c.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (output != ModelOutput.Multiclass)
        {
            errors.Add("classes: only a multiclass model has class labels");
            return null;
        }

        if (c.ValueKind != JsonValueKind.Array || c.GetArrayLength() < 2 || c.EnumerateArray().Any(l => l.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(l.GetString())))
        {
            errors.Add("classes: an array of at least two labels (non-empty strings), in the order of the model's outputs");
            return null;
        }

        var labels = c.EnumerateArray().Select(l => l.GetString()!).ToList();
        if (labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            errors.Add($"classes: '{twice.Key}' appears twice");
            return null;
        }

        return labels;
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
        if (maxAgeSeconds is <= 0 or > MaxSeconds)
        {
            errors.Add($"{path}.maxAgeSeconds: more than 0 and at most {MaxSeconds:0} seconds");
            maxAgeSeconds = null;
        }

        IReadOnlyList<string>? categories = null;
        if (item.TryGetProperty("categories", out var c) && c.ValueKind == JsonValueKind.Array)
        {
            categories = [.. c.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText())];
            if (c.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
            {
                errors.Add($"{path}.categories: labels are strings");
            }

            if (categories.GroupBy(x => x, StringComparer.Ordinal).FirstOrDefault(x => x.Count() > 1) is { } twice)
            {
                errors.Add($"{path}.categories: '{twice.Key}' appears twice; each label is one code");
            }
        }
        else if (item.TryGetProperty("categories", out var notArray) && notArray.ValueKind != JsonValueKind.Null)
        {
            errors.Add($"{path}.categories: an array of labels");
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
                    fallback = def.TryGetDouble(out var given) ? (float)given : float.NaN;
                    if (!float.IsFinite(fallback))
                    {
                        errors.Add($"{path}.default: {def.GetRawText()} is not a finite 32-bit number");
                        fallback = float.NaN;
                    }
                    else if (given < min || given > max)
                    {
                        errors.Add($"{path}.default: {given.ToString(CultureInfo.InvariantCulture)} is outside [{min}, {max}]");
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

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            errors.Add($"{path}: a finite number");
            return null;
        }

        return number;
    }

    private static T Enum<T>(string? text, string path, List<string> errors)
        where T : struct, Enum
    {
        if (text is null)
        {
            return default;
        }

        // Only a name, exactly: TryParse alone also takes numbers and comma lists ("regression,multiclass").
        if (System.Enum.GetNames<T>().Contains(text, StringComparer.OrdinalIgnoreCase) && System.Enum.TryParse<T>(text, ignoreCase: true, out var value))
        {
            return value;
        }

        errors.Add($"{path}: '{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
        return default;
    }

    /// <summary>A member written twice is refused wherever it is: JSON readers disagree on which one counts.</summary>
    private static void DuplicateMembers(JsonElement element, string path, List<string> errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in element.EnumerateObject())
                {
                    var at = path.Length == 0 ? p.Name : $"{path}.{p.Name}";
                    if (!seen.Add(p.Name))
                    {
                        errors.Add($"{at}: appears twice");
                    }

                    DuplicateMembers(p.Value, at, errors);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    DuplicateMembers(item, $"{path}[{i++}]", errors);
                }

                break;
        }
    }

    /// <summary>
    /// The training baseline, checked as strictly as DriftMonitor reads it: per feature of the manifest a
    /// numeric histogram (<c>edges</c> increasing, <c>counts</c> one fewer) or, for booleans and categories,
    /// <c>values</c> with their <c>counts</c>; counts are whole numbers from 0 to 2^53; <c>missing</c> too.
    /// </summary>
    private static void Baseline(JsonElement baseline, List<ManifestFeature> features, List<string> errors)
    {
        if (baseline.TryGetProperty("features", out var fs))
        {
            if (fs.ValueKind != JsonValueKind.Object)
            {
                errors.Add("baseline.features: an object of feature name → histogram");
            }
            else
            {
                foreach (var p in fs.EnumerateObject())
                {
                    var path = $"baseline.features.{p.Name}";
                    if (features.FirstOrDefault(f => f.Name == p.Name) is not { } feature)
                    {
                        errors.Add($"{path}: not a feature of the manifest");
                    }
                    else if (feature.Type == ManifestFeatureType.Number)
                    {
                        NumericHistogram(p.Value, path, errors);
                    }
                    else
                    {
                        CategoricalHistogram(p.Value, feature, path, errors);
                    }
                }
            }
        }

        if (baseline.TryGetProperty("prediction", out var prediction))
        {
            NumericHistogram(prediction, "baseline.prediction", errors);
        }
    }

    private static void NumericHistogram(JsonElement h, string path, List<string> errors)
    {
        if (h.ValueKind != JsonValueKind.Object || !h.TryGetProperty("edges", out var e) || e.ValueKind != JsonValueKind.Array || !h.TryGetProperty("counts", out var c) || c.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}: a histogram {{\"edges\": […], \"counts\": […]}}");
            return;
        }

        var edges = new List<double>();
        foreach (var edge in e.EnumerateArray())
        {
            if (edge.ValueKind != JsonValueKind.Number || !edge.TryGetDouble(out var x) || !double.IsFinite(x))
            {
                errors.Add($"{path}.edges[{edges.Count}]: a finite number");
                return;
            }

            edges.Add(x);
        }

        if (edges.Count < 2 || edges.Zip(edges.Skip(1)).Any(p => p.Second <= p.First))
        {
            errors.Add($"{path}.edges: at least two, strictly increasing");
        }

        Counts(c, path + ".counts", errors);
        if (c.GetArrayLength() != edges.Count - 1)
        {
            errors.Add($"{path}.counts: {c.GetArrayLength()} counts for {edges.Count} edges (one fewer expected)");
        }

        Missing(h, path, errors);
    }

    private static void CategoricalHistogram(JsonElement h, ManifestFeature feature, string path, List<string> errors)
    {
        if (h.ValueKind != JsonValueKind.Object || !h.TryGetProperty("values", out var v) || v.ValueKind != JsonValueKind.Array || !h.TryGetProperty("counts", out var c) || c.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{path}: a histogram {{\"values\": […], \"counts\": […]}}");
            return;
        }

        if (v.GetArrayLength() != c.GetArrayLength())
        {
            errors.Add($"{path}.counts: {c.GetArrayLength()} counts for {v.GetArrayLength()} values");
        }

        var i = 0;
        foreach (var value in v.EnumerateArray())
        {
            var known = value.ValueKind switch
            {
                JsonValueKind.True or JsonValueKind.False => feature.Type == ManifestFeatureType.Boolean,
                JsonValueKind.String => feature.Categories?.Contains(value.GetString()!) == true,
                JsonValueKind.Number => value.TryGetInt32(out var code) && code >= 0 && code < (feature.Type == ManifestFeatureType.Boolean ? 2 : feature.Categories?.Count ?? 0),
                _ => false,
            };
            if (!known)
            {
                errors.Add($"{path}.values[{i}]: {value.GetRawText()} is not one of the feature's values");
            }

            i++;
        }

        Counts(c, path + ".counts", errors);
        Missing(h, path, errors);
    }

    private static void Counts(JsonElement counts, string path, List<string> errors)
    {
        var i = 0;
        foreach (var count in counts.EnumerateArray())
        {
            if (count.ValueKind != JsonValueKind.Number || !count.TryGetDouble(out var n) || n < 0 || n > 9_007_199_254_740_992 || n != Math.Floor(n))
            {
                errors.Add($"{path}[{i}]: {count.GetRawText()} is not a count (a whole number from 0 to 2^53)");
            }

            i++;
        }
    }

    private static void Missing(JsonElement h, string path, List<string> errors)
    {
        if (h.TryGetProperty("missing", out var m) && (m.ValueKind != JsonValueKind.Number || !m.TryGetDouble(out var n) || n < 0 || n > 9_007_199_254_740_992 || n != Math.Floor(n)))
        {
            errors.Add($"{path}.missing: {m.GetRawText()} is not a count");
        }
    }
}
