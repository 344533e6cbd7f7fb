using System.Text.Json;
using DarkShip.Serving.Monitoring;

namespace DarkShip.Serving.Tests.Monitoring;

/// <summary>Drift statistics against scipy's values (tools/fixtures/generate_monitoring_fixtures.py → Fixtures/monitoring/drift.json).</summary>
public sealed class DriftStatisticsTests
{
    private static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "monitoring", "drift.json"))).RootElement;

    public static TheoryData<string> Cases() => [.. Fixture.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_statistic_equals_scipys_on_the_same_bins(string name)
    {
        var c = Fixture.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var edges = c.GetProperty("edges").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var baseline = new Histogram(edges, [.. c.GetProperty("baseline").EnumerateArray().Select(e => e.GetInt64())], 0);
        var current = new Histogram(edges, [.. c.GetProperty("current").EnumerateArray().Select(e => e.GetInt64())], 0);

        Close(c, "psi", DriftStatistics.Psi(current, baseline));
        Close(c, "jensenShannon", DriftStatistics.JensenShannon(current, baseline));
        if (c.GetProperty("kind").GetString() == "numeric")
        {
            var ks = DriftStatistics.KolmogorovSmirnov(current, baseline);
            Close(c, "ks", ks.Statistic);
            Close(c, "ksPValue", ks.PValue);
            Close(c, "wasserstein", DriftStatistics.Wasserstein(current, baseline));
            Close(c, "baselineStd", DriftStatistics.StandardDeviation(baseline));
        }
        else
        {
            var chi = DriftStatistics.ChiSquare(current, baseline);
            Close(c, "chiSquare", chi.Statistic);
            Close(c, "chiSquarePValue", chi.PValue);
        }
    }

    [Fact]
    public void Chi_square_and_Kolmogorov_tails_equal_scipys()
    {
        foreach (var t in Fixture.GetProperty("chiSquare").EnumerateArray())
        {
            Close(t, "p", DriftStatistics.ChiSquareSurvival(t.GetProperty("x").GetDouble(), t.GetProperty("dof").GetInt32()));
        }

        foreach (var t in Fixture.GetProperty("kolmogorov").EnumerateArray())
        {
            Close(t, "p", DriftStatistics.KolmogorovSurvival(t.GetProperty("lambda").GetDouble()));
        }
    }

    [Fact]
    public void Histograms_over_different_edges_are_refused()
    {
        Assert.Throws<ArgumentException>(() => DriftStatistics.KolmogorovSmirnov(new Histogram([1, 2]), new Histogram([1, 3])));
    }

    private static void Close(JsonElement expected, string name, double actual)
    {
        var want = expected.GetProperty(name).GetDouble();
        Assert.True(Math.Abs(actual - want) <= 1e-9 + 1e-6 * Math.Abs(want), $"{name}: {actual:R}, scipy {want:R}");
    }
}
