using System.Text;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Monitoring;

namespace DarkShip.Serving.Tests.Monitoring;

/// <summary>The demo manifest's training baseline (written by demo/generate_demo.py from the training rows) read onto DarkShip's bins.</summary>
public sealed class TrainingBaselineTests
{
    private static readonly ModelManifest Manifest = ManifestReader.Parse(Encoding.UTF8.GetBytes(ServingHarness.DemoManifest().ToJsonString()));

    [Fact]
    public void Numeric_baselines_keep_numpys_counts_and_the_training_maximum_falls_in_the_top_bin()
    {
        var baseline = TrainingBaseline.From(Manifest);
        var json = ServingHarness.DemoManifest()["baseline"]!["features"]!["hour_of_day"]!;
        var hours = baseline.Features["hour_of_day"];

        Assert.Equal(json["counts"]!.AsArray().Select(c => (long)c!), hours.Counts[1..^1]);
        Assert.Equal(0, hours.Counts[0] + hours.Counts[^1]);
        var live = new Histogram(baseline.FeatureEdges("hour_of_day"));
        live.Add(23); // the training maximum: numpy's last bin is closed
        live.Add(24); // beyond the training range
        Assert.Equal(1, live.Counts[^2]);
        Assert.Equal(1, live.Counts[^1]);
        Assert.Equal(0, baseline.MissingRates["hour_of_day"]);
    }

    [Fact]
    public void Boolean_and_category_baselines_count_per_code()
    {
        var baseline = TrainingBaseline.From(Manifest);
        var json = ServingHarness.DemoManifest()["baseline"]!["features"]!;

        Assert.Equal([.. json["is_verified"]!["counts"]!.AsArray().Select(c => (long)c!), 0], baseline.Features["is_verified"].Counts);
        Assert.Equal([.. json["store_category"]!["counts"]!.AsArray().Select(c => (long)c!), 0], baseline.Features["store_category"].Counts);
        var live = new Histogram(baseline.FeatureEdges("store_category"));
        live.Add(3); // gaming
        Assert.Equal(1, live.Counts[3]);
    }

    [Fact]
    public void Without_a_baseline_features_use_decades_and_categories_their_codes()
    {
        var bare = Manifest with { BaselineJson = null };
        var baseline = TrainingBaseline.From(bare);

        Assert.Empty(baseline.Features);
        Assert.Null(baseline.Prediction);
        Assert.Equal(Histogram.DecadeEdges, baseline.FeatureEdges("amount"));
        Assert.Equal([0.5, 1.5, 2.5, 3.5], baseline.FeatureEdges("store_category")); // codes 0–3, and a bin for an unknown code
        Assert.Equal(Histogram.ProbabilityEdges, baseline.PredictionEdges);
    }
}
