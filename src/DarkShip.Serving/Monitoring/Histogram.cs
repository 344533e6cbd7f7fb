namespace DarkShip.Serving.Monitoring;

/// <summary>
/// Counts over fixed edges: bin 0 holds values below <c>Edges[0]</c>, bin <c>i</c> holds
/// <c>[Edges[i-1], Edges[i])</c>, the last bin holds values at or above the last edge; missing
/// (NaN) values are counted apart. Two histograms with the same edges merge by adding counts,
/// which is what lets windows be summed across batches, partitions and time.
/// </summary>
public sealed class Histogram
{
    /// <summary>Edges for probabilities: 20 equal bins over [0, 1].</summary>
    public static readonly double[] ProbabilityEdges = [.. Enumerable.Range(1, 19).Select(i => i / 20.0)];

    /// <summary>Edges for latencies in milliseconds, finer where serving latencies live.</summary>
    public static readonly double[] LatencyEdges = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

    /// <summary>Edges for a score difference between two probabilities, over [-1, 1].</summary>
    public static readonly double[] DeltaEdges = [-0.5, -0.2, -0.1, -0.05, -0.02, -0.01, 0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];

    /// <summary>Edges for a value with no training baseline: signed decades, so any scale lands somewhere useful.</summary>
    public static readonly double[] DecadeEdges = [-1e6, -1e4, -1e3, -100, -10, -1, -0.1, 0, 0.1, 1, 10, 100, 1e3, 1e4, 1e6];

    /// <summary>An empty histogram over <paramref name="edges"/> (ascending).</summary>
    public Histogram(double[] edges)
        : this(edges, new long[edges.Length + 1], 0)
    {
    }

    /// <summary>A histogram with counts, as stored.</summary>
    public Histogram(double[] edges, long[] counts, long missing)
    {
        if (counts.Length != edges.Length + 1)
        {
            throw new ArgumentException($"{edges.Length} edges need {edges.Length + 1} counts, not {counts.Length}.", nameof(counts));
        }

        Edges = edges;
        Counts = counts;
        Missing = missing;
    }

    /// <summary>The bin edges, ascending.</summary>
    public double[] Edges { get; }

    /// <summary>One count per bin: <c>Edges.Length + 1</c>.</summary>
    public long[] Counts { get; }

    /// <summary>Missing (NaN) values seen.</summary>
    public long Missing { get; private set; }

    /// <summary>Values counted in bins (missing excluded).</summary>
    public long Total => Counts.Sum();

    /// <summary>Counts <paramref name="value"/>.</summary>
    public void Add(double value)
    {
        if (double.IsNaN(value))
        {
            Missing++;
            return;
        }

        var i = Array.BinarySearch(Edges, value);
        Counts[i >= 0 ? i + 1 : ~i]++;
    }

    /// <summary>Adds <paramref name="other"/>'s counts; its edges must be the same.</summary>
    public void Merge(Histogram other)
    {
        if (!Edges.AsSpan().SequenceEqual(other.Edges))
        {
            throw new ArgumentException("Histograms with different edges cannot be merged.", nameof(other));
        }

        for (var i = 0; i < Counts.Length; i++)
        {
            Counts[i] += other.Counts[i];
        }

        Missing += other.Missing;
    }

    /// <summary>A copy that merging into does not change this one.</summary>
    public Histogram Clone() => new([.. Edges], [.. Counts], Missing);

    /// <summary>
    /// An upper bound for the <paramref name="q"/> quantile: the upper edge of the bin it falls in
    /// (the last edge for the open top bin), so a guardrail on it errs on the side of caution.
    /// </summary>
    public double UpperQuantile(double q)
    {
        var total = Total;
        if (total == 0)
        {
            return double.NaN;
        }

        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < Counts.Length; i++)
        {
            seen += Counts[i];
            if (seen >= rank)
            {
                return i < Edges.Length ? Edges[i] : double.PositiveInfinity;
            }
        }

        return double.PositiveInfinity;
    }

    /// <summary>
    /// Population stability index of this distribution against <paramref name="expected"/> (same
    /// edges): Σ (a − e) ln(a / e) over bins, with empty bins smoothed to half a count so one empty
    /// bin cannot make it infinite. Conventionally below 0.1 is stable and above 0.25 a real shift.
    /// </summary>
    public double Psi(Histogram expected)
    {
        if (!Edges.AsSpan().SequenceEqual(expected.Edges))
        {
            throw new ArgumentException("PSI needs histograms over the same edges.", nameof(expected));
        }

        double actualTotal = Total, expectedTotal = expected.Total;
        if (actualTotal == 0 || expectedTotal == 0)
        {
            return double.NaN;
        }

        var psi = 0.0;
        for (var i = 0; i < Counts.Length; i++)
        {
            var a = Math.Max(Counts[i], 0.5) / actualTotal;
            var e = Math.Max(expected.Counts[i], 0.5) / expectedTotal;
            psi += (a - e) * Math.Log(a / e);
        }

        return psi;
    }
}
