using DarkShip.Functions.Apis;

namespace DarkShip.Functions.Tests.Apis;

public sealed class ShadowScoreFunctionTests
{
    [Fact]
    public void BatchAttempts_TheHostsLastRetryFailing_IsReportedOnce_AsTheHostCheckpointsPast()
    {
        var attempts = new ShadowScoreFunction.BatchAttempts(maxRetries: 5);

        var lost = Enumerable.Range(0, 6).Select(_ => attempts.Failed("3", 100)).ToList();

        Assert.Equal([false, false, false, false, false, true], lost);
        Assert.False(attempts.Failed("3", 100)); // a new count if it ever comes again
    }

    [Fact]
    public void BatchAttempts_ASuccessOrANewHead_StartsTheCountAgain_PerPartition()
    {
        var attempts = new ShadowScoreFunction.BatchAttempts(maxRetries: 1);

        Assert.False(attempts.Failed("0", 10));
        attempts.Succeeded("0");
        Assert.False(attempts.Failed("0", 10));
        Assert.False(attempts.Failed("0", 20)); // another batch at the head: the host moved on
        Assert.False(attempts.Failed("1", 20)); // another partition counts apart
        Assert.True(attempts.Failed("0", 20));
    }
}
