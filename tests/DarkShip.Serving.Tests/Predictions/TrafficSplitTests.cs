using DarkShip.Serving.Predictions;

namespace DarkShip.Serving.Tests.Predictions;

public sealed class TrafficSplitTests
{
    [Fact]
    public void Bucket_IsUniformOverEntities()
    {
        var counts = new int[10];
        for (var i = 0; i < 100_000; i++)
        {
            counts[TrafficSplit.Bucket("salt", TrafficSplit.ExperimentPurpose, "fraud", $"c{i}") / 1000]++;
        }

        // Chi-square with 9 degrees of freedom; 27.9 is the 0.999 quantile.
        var chi2 = counts.Sum(c => Math.Pow(c - 10_000, 2) / 10_000);
        Assert.True(chi2 < 27.9, $"chi-square {chi2:F1}: [{string.Join(", ", counts)}]");
    }

    [Fact]
    public void Bucket_DependsOnSaltPurposeAndModel()
    {
        int Agreement(Func<int, int> other) => Enumerable.Range(0, 10_000).Count(i => TrafficSplit.Bucket("s", "experiment", "fraud", $"c{i}") / 5000 == other(i) / 5000);

        Assert.InRange(Agreement(i => TrafficSplit.Bucket("t", "experiment", "fraud", $"c{i}")), 4700, 5300);
        Assert.InRange(Agreement(i => TrafficSplit.Bucket("s", "shadow", "fraud", $"c{i}")), 4700, 5300);
        Assert.InRange(Agreement(i => TrafficSplit.Bucket("s", "experiment", "eta", $"c{i}")), 4700, 5300);
    }

    [Fact]
    public void IsIn_WideningAShare_KeepsEveryoneAlreadyIn()
    {
        for (var bucket = 0; bucket < TrafficSplit.Buckets; bucket++)
        {
            Assert.True(!TrafficSplit.IsIn(bucket, 1) || TrafficSplit.IsIn(bucket, 10));
        }

        Assert.Equal(100, Enumerable.Range(0, TrafficSplit.Buckets).Count(b => TrafficSplit.IsIn(b, 1)));
        Assert.False(TrafficSplit.IsIn(0, 0));
        Assert.True(TrafficSplit.IsIn(TrafficSplit.Buckets - 1, 100));
    }
}
