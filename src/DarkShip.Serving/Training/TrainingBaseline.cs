using System.Text.Json;
using DarkShip.Serving.Manifests;

namespace DarkShip.Serving.Training;

/// <summary>
/// The training baseline drift is measured against, as the manifest stores it: per numeric feature the
/// training values' deciles as edges (numpy's <c>unique(quantile(x, linspace(0, 1, 11)))</c>, linear
/// interpolation) with <c>histogram</c>'s counts (the last bin closed), per boolean or category feature
/// the count of each value (labels, not codes), and missing values apart; the prediction's histogram
/// likewise, the row count and a probability model's positive rate.
/// </summary>
public static class TrainingBaseline
{
    /// <summary>Writes the baseline of <paramref name="rows"/> (manifest order) and their <paramref name="predictions"/> as JSON.</summary>
    public static string Json(ModelManifest manifest, IReadOnlyList<float[]> rows, IReadOnlyList<float> labels, IReadOnlyList<float>? predictions)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("rows", rows.Count);
            if (manifest.Output == ModelOutput.Probability && labels.Count > 0)
            {
                w.WriteNumber("positiveRate", labels.Average(l => (double)l));
            }

            w.WriteStartObject("features");
            for (var i = 0; i < manifest.Features.Count; i++)
            {
                var feature = manifest.Features[i];
                w.WritePropertyName(feature.Name);
                var column = rows.Select(r => r[i]).ToArray();
                if (feature.Type == ManifestFeatureType.Number)
                {
                    WriteHistogram(w, column.Where(v => !float.IsNaN(v)).Select(v => (double)v).ToArray(), column.Count(float.IsNaN));
                }
                else
                {
                    WriteValues(w, feature, column);
                }
            }

            w.WriteEndObject();
            if (predictions is not null)
            {
                w.WritePropertyName("prediction");
                WriteHistogram(w, predictions.Where(float.IsFinite).Select(v => (double)v).ToArray(), missing: null);
            }

            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>numpy's <c>quantile</c> (linear) of sorted <paramref name="sorted"/> at <paramref name="q"/>.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        var h = (sorted.Length - 1) * q;
        var lo = (int)Math.Floor(h);
        return lo + 1 < sorted.Length ? sorted[lo] + ((h - lo) * (sorted[lo + 1] - sorted[lo])) : sorted[lo];
    }

    /// <summary>Decile edges (unique) and numpy <c>histogram</c> counts: bins [e<sub>i</sub>, e<sub>i+1</sub>), the last closed.</summary>
    public static (double[] Edges, long[] Counts) Deciles(double[] values)
    {
        if (values.Length == 0)
        {
            return ([0, 1], [0]);
        }

        var sorted = values.Order().ToArray();
        var edges = Enumerable.Range(0, 11).Select(i => Quantile(sorted, i / 10.0)).Distinct().ToArray();
        if (edges.Length < 2)
        {
            edges = [edges[0] - 0.5, edges[0] + 0.5]; // one value: one bin around it
        }

        var counts = new long[edges.Length - 1];
        foreach (var v in sorted)
        {
            var bin = Array.BinarySearch(edges, v);
            bin = bin >= 0 ? Math.Min(bin, counts.Length - 1) : ~bin - 1;
            if (bin >= 0 && bin < counts.Length)
            {
                counts[bin]++;
            }
        }

        return (edges, counts);
    }

    private static void WriteHistogram(Utf8JsonWriter w, double[] values, int? missing)
    {
        var (edges, counts) = Deciles(values);
        w.WriteStartObject();
        w.WriteStartArray("edges");
        foreach (var e in edges)
        {
            w.WriteNumberValue(e);
        }

        w.WriteEndArray();
        w.WriteStartArray("counts");
        foreach (var c in counts)
        {
            w.WriteNumberValue(c);
        }

        w.WriteEndArray();
        if (missing is { } m)
        {
            w.WriteNumber("missing", m);
        }

        w.WriteEndObject();
    }

    private static void WriteValues(Utf8JsonWriter w, ManifestFeature feature, float[] column)
    {
        var known = feature.Type == ManifestFeatureType.Boolean ? 2 : feature.Categories!.Count;
        bool Known(float v) => v >= 0 && v < known && v == MathF.Floor(v);
        var present = column.Where(Known).Select(v => (int)v).GroupBy(v => v).OrderBy(g => g.Key).ToList();
        w.WriteStartObject();
        w.WriteStartArray("values");
        foreach (var g in present)
        {
            if (feature.Type == ManifestFeatureType.Boolean)
            {
                w.WriteBooleanValue(g.Key != 0);
            }
            else
            {
                w.WriteStringValue(feature.Categories![g.Key]);
            }
        }

        w.WriteEndArray();
        w.WriteStartArray("counts");
        foreach (var g in present)
        {
            w.WriteNumberValue(g.Count());
        }

        w.WriteEndArray();
        w.WriteNumber("missing", column.Count(v => !Known(v)));
        w.WriteEndObject();
    }
}
