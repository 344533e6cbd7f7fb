using System.Text.Json;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Serving.Tests.Outcomes;

/// <summary>Outcome metrics against scikit-learn's (tools/fixtures/generate_monitoring_fixtures.py → Fixtures/monitoring/metrics.json).</summary>
public sealed class OutcomeMetricsTests
{
    private static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "monitoring", "metrics.json"))).RootElement;

    public static TheoryData<string> Classifications() => [.. Fixture.GetProperty("classification").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(Classifications))]
    public void Classification_metrics_equal_sklearns(string name)
    {
        var c = Fixture.GetProperty("classification").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var m = OutcomeMetrics.Classification(Doubles(c, "scores"), Doubles(c, "labels"), c.GetProperty("threshold").GetDouble());

        Close("logLoss", c.GetProperty("logLoss").GetDouble(), m.LogLoss);
        Close("brier", c.GetProperty("brier").GetDouble(), m.Brier);
        Close("auc", c.GetProperty("auc").GetDouble(), m.Auc);
        Close("precision", c.GetProperty("precision").GetDouble(), m.Precision);
        Close("recall", c.GetProperty("recall").GetDouble(), m.Recall);
        var observed = Doubles(c, "calibrationObserved");
        var predicted = Doubles(c, "calibrationPredicted");
        Assert.Equal(observed.Length, m.Calibration.Count);
        for (var i = 0; i < observed.Length; i++)
        {
            Close($"calibration[{i}].observed", observed[i], m.Calibration[i].ObservedRate);
            Close($"calibration[{i}].predicted", predicted[i], m.Calibration[i].MeanPredicted);
        }
    }

    [Fact]
    public void Regression_metrics_equal_sklearns()
    {
        foreach (var c in Fixture.GetProperty("regression").EnumerateArray())
        {
            var m = OutcomeMetrics.Regression(Doubles(c, "scores"), Doubles(c, "labels"));
            Close("mae", c.GetProperty("mae").GetDouble(), m.Mae);
            Close("rmse", c.GetProperty("rmse").GetDouble(), m.Rmse);
            Assert.True(double.IsNaN(m.Auc));
        }
    }

    [Fact]
    public void Auc_needs_both_classes_and_multiclass_scores_the_true_class()
    {
        Assert.True(double.IsNaN(OutcomeMetrics.RocAuc([0.1, 0.9], [1, 1])));
        var m = OutcomeMetrics.From(ModelOutput.Multiclass, [[0.7f, 0.2f, 0.1f], [0.1f, 0.1f, 0.8f]], [0, 1]);
        Assert.Equal(0.5, m.Accuracy);
        Assert.Equal((-Math.Log(0.7f) - Math.Log(0.1f)) / 2, m.LogLoss, 6);
    }

    private static double[] Doubles(JsonElement c, string name) => [.. c.GetProperty(name).EnumerateArray().Select(e => e.GetDouble())];

    private static void Close(string name, double want, double actual) =>
        Assert.True(Math.Abs(actual - want) <= 1e-9 + 1e-7 * Math.Abs(want), $"{name}: {actual:R}, sklearn {want:R}");
}
