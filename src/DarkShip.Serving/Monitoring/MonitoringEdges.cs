using System.Text.Json;
using DarkShip.Serving.Manifests;

namespace DarkShip.Serving.Monitoring;

/// <summary>
/// The bin edges a model version's histograms use: its training baseline's (the manifest's
/// <c>baseline.features.{name}.edges</c> and <c>baseline.prediction.edges</c>) so drift compares like
/// with like; without a baseline, 20 equal bins for a probability and signed decades otherwise.
/// </summary>
public sealed class MonitoringEdges
{
    private readonly Dictionary<string, double[]> features;

    private MonitoringEdges(double[] prediction, Dictionary<string, double[]> features)
    {
        Prediction = prediction;
        this.features = features;
    }

    /// <summary>Edges for the version's first output.</summary>
    public double[] Prediction { get; }

    /// <summary>Edges for the feature named <paramref name="name"/>.</summary>
    public double[] Feature(string name) => features.GetValueOrDefault(name) ?? Histogram.DecadeEdges;

    /// <summary>The edges for <paramref name="manifest"/>; a baseline that cannot be read is ignored (the defaults apply).</summary>
    public static MonitoringEdges From(ModelManifest manifest)
    {
        var fallback = manifest.Output == Manifests.ModelOutput.Probability ? Histogram.ProbabilityEdges : Histogram.DecadeEdges;
        var byName = new Dictionary<string, double[]>(StringComparer.Ordinal);
        if (manifest.BaselineJson is null)
        {
            return new MonitoringEdges(fallback, byName);
        }

        try
        {
            using var doc = JsonDocument.Parse(manifest.BaselineJson);
            var root = doc.RootElement;
            if (root.TryGetProperty("features", out var fs) && fs.ValueKind == JsonValueKind.Object)
            {
                foreach (var f in fs.EnumerateObject())
                {
                    if (Edges(f.Value) is { } e)
                    {
                        byName[f.Name] = e;
                    }
                }
            }

            var prediction = root.TryGetProperty("prediction", out var p) ? Edges(p) : null;
            return new MonitoringEdges(prediction ?? fallback, byName);
        }
        catch (JsonException)
        {
            return new MonitoringEdges(fallback, byName);
        }
    }

    private static double[]? Edges(JsonElement histogram)
    {
        if (histogram.ValueKind != JsonValueKind.Object || !histogram.TryGetProperty("edges", out var edges) || edges.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var values = edges.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetDouble()).Distinct().Order().ToArray();
        return values.Length > 0 ? values : null;
    }
}
