using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Tests.XGBoost;

/// <summary>Every row of every fixture must match real XGBoost within 1e-5 relative or 1e-6 absolute.</summary>
public sealed class ParityTests
{
    public static IEnumerable<object[]> Cases => ParityFixture.Names();

    [Fact]
    public void Fixtures_CoverEveryBoosterAndObjectiveTheEngineSupports()
    {
        var names = Cases.Select(c => (string)c[0]).ToList();

        Assert.True(names.Count >= 25, $"only {names.Count} fixtures");
        foreach (var expected in new[] { "gbtree", "dart", "gblinear", "binary_logistic", "binary_logitraw", "binary_hinge", "reg_squarederror", "reg_squaredlogerror", "reg_logistic", "reg_pseudohubererror", "reg_absoluteerror", "reg_tweedie", "reg_gamma", "count_poisson", "survival_cox", "multi_softprob", "multi_softmax", "rank_pairwise", "rank_ndcg" })
        {
            Assert.Contains(names, n => n.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Predict_EachRow_MatchesXGBoost(string name)
    {
        var fixture = ParityFixture.Load(name);
        var model = XGBoostModelReader.Load(fixture.ModelPath);

        for (var r = 0; r < fixture.Rows.Length; r++)
        {
            var margin = new float[model.GetOutputCount(OutputKind.Margin)];
            var transformed = new float[model.GetOutputCount(OutputKind.Transformed)];
            model.Predict(fixture.Rows[r], margin, OutputKind.Margin);
            model.Predict(fixture.Rows[r], transformed);

            AssertClose(fixture.Margin[r], margin, $"{name} row {r} margin");
            AssertClose(fixture.Transformed[r], transformed, $"{name} row {r} transformed");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PredictBatch_AllRows_MatchesXGBoost(string name)
    {
        var fixture = ParityFixture.Load(name);
        var model = XGBoostModelReader.Load(fixture.ModelPath);
        var rows = fixture.Rows.SelectMany(r => r).ToArray();

        foreach (var kind in new[] { OutputKind.Margin, OutputKind.Transformed })
        {
            var expected = kind == OutputKind.Margin ? fixture.Margin : fixture.Transformed;
            var width = model.GetOutputCount(kind);
            var output = new float[fixture.Rows.Length * width];
            model.PredictBatch(rows, output, kind);

            for (var r = 0; r < fixture.Rows.Length; r++)
            {
                AssertClose(expected[r], output.AsSpan(r * width, width).ToArray(), $"{name} batch row {r} {kind}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PredictBatch_EqualsSingleRowPredictions_Exactly(string name)
    {
        var fixture = ParityFixture.Load(name);
        var model = XGBoostModelReader.Load(fixture.ModelPath);
        var rows = fixture.Rows.SelectMany(r => r).ToArray();
        var width = model.GetOutputCount(OutputKind.Margin);
        var batch = new float[fixture.Rows.Length * width];
        model.PredictBatch(rows, batch, OutputKind.Margin);

        var single = new float[width];
        for (var r = 0; r < fixture.Rows.Length; r++)
        {
            model.Predict(fixture.Rows[r], single, OutputKind.Margin);
            Assert.Equal(single, batch.AsSpan(r * width, width).ToArray());
        }
    }

    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} outputs, XGBoost gave {expected.Length}");
        for (var i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a))
            {
                Assert.True(double.IsNaN(e) && double.IsNaN(a), $"{what}[{i}]: expected {e}, got {a}");
                continue;
            }

            var diff = Math.Abs(e - a);
            Assert.True(diff <= 1e-6 || diff <= 1e-5 * Math.Abs(e), $"{what}[{i}]: expected {e:R}, got {a:R} (diff {diff:E2})");
        }
    }
}
