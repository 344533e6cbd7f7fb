using System.Text.Json;
using DarkShip.Serving.Manifests;

namespace DarkShip.Serving.Monitoring;

/// <summary>
/// The training baseline from a manifest's <c>baseline</c>, as histograms over DarkShip's bins, so a
/// window of live traffic is compared with training like with like.
/// <list type="bullet">
/// <item>A numeric feature or the prediction: <c>{"edges": [e0 … ek], "counts": [k counts], "missing": n?}</c>,
/// as <c>numpy.histogram</c> writes it (the last bin includes its upper edge; so does DarkShip's, whose
/// top edge is nudged up by one ulp; values beyond the training range land in the open outer bins).</item>
/// <item>A boolean or category feature: <c>{"values": [labels or codes], "counts": [...], "missing": n?}</c>,
/// one count per value, binned one bin per category code.</item>
/// </list>
/// A feature without a usable baseline is binned on signed decades (or per category) and compared
/// with the previous window only.
/// </summary>
public sealed class TrainingBaseline
{
    private TrainingBaseline(Dictionary<string, Histogram> features, Dictionary<string, double> missing, Histogram? prediction, double[] predictionEdges, Dictionary<string, double[]> edges)
    {
        Features = features;
        MissingRates = missing;
        Prediction = prediction;
        PredictionEdges = predictionEdges;
        this.edges = edges;
    }

    private readonly Dictionary<string, double[]> edges;

    /// <summary>The baseline histogram of each feature that has one.</summary>
    public IReadOnlyDictionary<string, Histogram> Features { get; }

    /// <summary>The training missing rate of each feature whose baseline states <c>missing</c>.</summary>
    public IReadOnlyDictionary<string, double> MissingRates { get; }

    /// <summary>The baseline histogram of the first output, if the manifest has one.</summary>
    public Histogram? Prediction { get; }

    /// <summary>Edges for the first output's histogram.</summary>
    public double[] PredictionEdges { get; }

    /// <summary>Edges for the histogram of the feature named <paramref name="name"/>.</summary>
    public double[] FeatureEdges(string name) => edges.GetValueOrDefault(name) ?? Histogram.DecadeEdges;

    /// <summary>The baseline of <paramref name="manifest"/>; a part that cannot be read is left out (a baseline is advisory).</summary>
    public static TrainingBaseline From(ModelManifest manifest)
    {
        var predictionEdges = manifest.Output == ModelOutput.Probability ? Histogram.ProbabilityEdges : Histogram.DecadeEdges;
        var edges = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var f in manifest.Features.Where(f => f.Type != ManifestFeatureType.Number))
        {
            edges[f.Name] = CategoryEdges(f.Type == ManifestFeatureType.Boolean ? 2 : Math.Max(f.Categories?.Count ?? 1, 1));
        }

        var features = new Dictionary<string, Histogram>(StringComparer.Ordinal);
        var missing = new Dictionary<string, double>(StringComparer.Ordinal);
        Histogram? prediction = null;
        if (manifest.BaselineJson is not null)
        {
            try
            {
                using var doc = JsonDocument.Parse(manifest.BaselineJson);
                var root = doc.RootElement;
                if (root.TryGetProperty("features", out var fs) && fs.ValueKind == JsonValueKind.Object)
                {
                    foreach (var f in manifest.Features)
                    {
                        if (fs.TryGetProperty(f.Name, out var h) && h.ValueKind == JsonValueKind.Object)
                        {
                            var histogram = f.Type == ManifestFeatureType.Number ? Numeric(h) : Categorical(h, f, edges[f.Name]);
                            if (histogram is not null)
                            {
                                features[f.Name] = histogram;
                                edges[f.Name] = histogram.Edges;
                                if (h.TryGetProperty("missing", out var m) && m.TryGetDouble(out var n) && histogram.Total + n > 0)
                                {
                                    missing[f.Name] = n / (histogram.Total + n);
                                }
                            }
                        }
                    }
                }

                if (root.TryGetProperty("prediction", out var p) && p.ValueKind == JsonValueKind.Object && Numeric(p) is { } ph)
                {
                    prediction = ph;
                    predictionEdges = ph.Edges;
                }
            }
            catch (JsonException)
            {
                // An unreadable baseline: histograms on the default edges, compared window to window.
            }
        }

        return new TrainingBaseline(features, missing, prediction, predictionEdges, edges);
    }

    /// <summary>Edges putting code 0, 1, …, k − 1 each in its own bin (bins 0 … k − 1; bin k would be an unknown code).</summary>
    public static double[] CategoryEdges(int categories) => [.. Enumerable.Range(0, categories).Select(i => i + 0.5)];

    private static Histogram? Numeric(JsonElement h)
    {
        if (!h.TryGetProperty("edges", out var e) || !h.TryGetProperty("counts", out var c) || e.ValueKind != JsonValueKind.Array || c.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var given = e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var counts = c.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        if (given.Length < 2 || counts.Length != given.Length - 1 || given.Zip(given.Skip(1)).Any(p => p.Second <= p.First))
        {
            return null;
        }

        var edges = given.ToArray();
        edges[^1] = Math.BitIncrement(edges[^1]); // numpy's last bin is closed: the training maximum belongs in it
        var binned = new long[edges.Length + 1];
        for (var i = 0; i < counts.Length; i++)
        {
            binned[i + 1] = (long)counts[i];
        }

        return new Histogram(edges, binned, 0);
    }

    private static Histogram? Categorical(JsonElement h, ManifestFeature feature, double[] edges)
    {
        if (!h.TryGetProperty("values", out var v) || !h.TryGetProperty("counts", out var c) || v.ValueKind != JsonValueKind.Array || c.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var values = v.EnumerateArray().ToArray();
        var counts = c.EnumerateArray().Select(x => x.GetDouble()).ToArray();
        if (values.Length != counts.Length)
        {
            return null;
        }

        var histogram = new Histogram(edges);
        for (var i = 0; i < values.Length; i++)
        {
            double code = values[i].ValueKind switch
            {
                JsonValueKind.Number => values[i].GetDouble(),
                JsonValueKind.True => 1,
                JsonValueKind.False => 0,
                JsonValueKind.String => feature.Categories?.ToList().IndexOf(values[i].GetString()!) is { } at and >= 0 ? at : double.NaN,
                _ => double.NaN,
            };
            if (!double.IsNaN(code))
            {
                histogram.Counts[Bin(edges, code)] += (long)counts[i];
            }
        }

        return histogram;
    }

    private static int Bin(double[] edges, double value)
    {
        var i = Array.BinarySearch(edges, value);
        return i >= 0 ? i + 1 : ~i;
    }
}

/// <summary>
/// The bin edges a model version's histograms use: its training baseline's (see <see cref="TrainingBaseline"/>)
/// so drift compares like with like; without a baseline, 20 equal bins for a probability, one bin per
/// category code, and signed decades otherwise.
/// </summary>
public sealed class MonitoringEdges
{
    private readonly TrainingBaseline baseline;

    private MonitoringEdges(TrainingBaseline baseline) => this.baseline = baseline;

    /// <summary>Edges for the version's first output.</summary>
    public double[] Prediction => baseline.PredictionEdges;

    /// <summary>Edges for the feature named <paramref name="name"/>.</summary>
    public double[] Feature(string name) => baseline.FeatureEdges(name);

    /// <summary>The edges for <paramref name="manifest"/>.</summary>
    public static MonitoringEdges From(ModelManifest manifest) => new(TrainingBaseline.From(manifest));
}
