using DarkShip.Serving.Monitoring;

namespace DarkShip.Serving.Tests.Monitoring;

public class HistogramTests
{
    [Fact]
    public void Add_PutsValuesInHalfOpenBins_WithUnderflowOverflowAndMissingApart()
    {
        var h = new Histogram([0, 1, 2]);

        foreach (var v in new[] { -1, 0, 0.5, 1, 1.99, 2, 50, double.NaN })
        {
            h.Add(v);
        }

        Assert.Equal([1L, 2, 2, 2], h.Counts);
        Assert.Equal((1L, 7L), (h.Missing, h.Total));
    }

    [Fact]
    public void UpperQuantile_IsTheUpperEdgeOfTheBinTheQuantileFallsIn()
    {
        var h = new Histogram(Histogram.LatencyEdges);
        for (var i = 0; i < 99; i++)
        {
            h.Add(3);
        }

        h.Add(150);

        Assert.Equal(5, h.UpperQuantile(0.5));
        Assert.Equal(5, h.UpperQuantile(0.99));
        Assert.Equal(200, h.UpperQuantile(1));
    }

    [Fact]
    public void Psi_IsZeroForTheSameShape_AndLargeForADisjointOne()
    {
        var a = new Histogram(Histogram.ProbabilityEdges);
        var b = new Histogram(Histogram.ProbabilityEdges);
        var far = new Histogram(Histogram.ProbabilityEdges);
        for (var i = 0; i < 100; i++)
        {
            a.Add(i / 100.0);
            b.Add(i / 100.0);
            b.Add(i / 100.0); // twice as many, same shape
            far.Add(0.99);
        }

        Assert.Equal(0, a.Psi(b), 12);
        Assert.True(a.Psi(far) > 1, $"PSI {a.Psi(far)}");
    }

    [Fact]
    public void Merge_AddsCounts_AndRefusesOtherEdges()
    {
        var a = new Histogram([0, 1]);
        var b = new Histogram([0, 1]);
        a.Add(0.5);
        b.Add(0.5);
        b.Add(double.NaN);

        a.Merge(b);

        Assert.Equal([0L, 2, 0], a.Counts);
        Assert.Equal(1, a.Missing);
        Assert.Throws<ArgumentException>(() => a.Merge(new Histogram([0, 2])));
    }

    [Fact]
    public void Spearman_IsOneForTheSameOrder_MinusOneReversed_AndUsesAverageRanksForTies()
    {
        var same = Enumerable.Range(0, 10).Select(i => new RankPair((ulong)i, i, i * i)).ToList();
        var reversed = Enumerable.Range(0, 10).Select(i => new RankPair((ulong)i, i, -i)).ToList();
        var constant = Enumerable.Range(0, 10).Select(i => new RankPair((ulong)i, i, 1)).ToList();

        Assert.Equal(1, ModelStats.Spearman(same), 12);
        Assert.Equal(-1, ModelStats.Spearman(reversed), 12);
        Assert.True(double.IsNaN(ModelStats.Spearman(constant)));
    }

    [Fact]
    public void RankSample_KeepsTheSmallestKeys_SoMergingWindowsInAnyOrderGivesTheSameSample()
    {
        WindowAggregate Window(IEnumerable<int> keys)
        {
            var w = new WindowAggregate(new AggregateKey("m", "1", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch), "shadow", Histogram.ProbabilityEdges);
            w.Apply("0", keys.Select((k, i) => new Observation(i, ScoringOutcome.Scored, 1, 0.5f, null, 0.4f, true, (ulong)k)), _ => Histogram.DecadeEdges);
            return w;
        }

        var all = Enumerable.Range(0, 1000).Select(i => (i * 7919) % 1000).ToList();
        var ab = Window(all[..500]);
        ab.Merge(Window(all[500..]));
        var ba = Window(all[500..]);
        ba.Merge(Window(all[..500]));

        Assert.Equal(Enumerable.Range(0, WindowAggregate.RankSampleSize).Select(i => (ulong)i), ab.RankSample.Select(p => p.Key));
        Assert.Equal(ab.RankSample, ba.RankSample);
    }
}
