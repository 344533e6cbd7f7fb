using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Tests.XGBoost;

/// <summary>Properties of the scoring hot path that are facts, not timings: no allocation, thread safety.</summary>
public sealed class HotPathTests
{
    [Theory]
    [InlineData("binary_logistic_gbtree")]
    [InlineData("multi_softprob_wine")]
    [InlineData("multi_softmax_digits")]
    [InlineData("binary_logistic_gblinear")]
    public void Predict_SingleRow_AllocatesNothing(string name)
    {
        var fixture = ParityFixture.Load(name);
        var model = XGBoostModelReader.Load(fixture.ModelPath);
        var output = new float[model.GetOutputCount(OutputKind.Margin)];
        var row = fixture.Rows[0];
        void Run()
        {
            for (var i = 0; i < 10_000; i++)
            {
                model.Predict(row, output);
                model.Predict(row, output, OutputKind.Margin);
            }
        }

        // Warm up with the very calls measured, as often: a single call left the margin path cold and the
        // loops to on-stack replacement, which compiles (and loads types, allocating) on this thread
        // during the measurement on some runs (1,232 bytes once in a full run).
        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Predict_FromManyThreadsAtOnce_GivesTheSameAnswersAsOneThread()
    {
        var fixture = ParityFixture.Load("multi_softprob_wine");
        var model = XGBoostModelReader.Load(fixture.ModelPath);
        var width = model.GetOutputCount(OutputKind.Transformed);
        var expected = fixture.Rows.Select(r =>
        {
            var o = new float[width];
            model.Predict(r, o);
            return o;
        }).ToArray();

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            var o = new float[width];
            for (var r = 0; r < fixture.Rows.Length; r++)
            {
                model.Predict(fixture.Rows[r], o);
                Assert.Equal(expected[r], o);
            }
        });
    }
}
