using DarkShip.Functions.Hosting;
using DarkShip.Serving.Registry;

namespace DarkShip.Functions.Tests.Hosting;

public sealed class StorageFailureTests
{
    [Fact]
    public void The_sdks_aggregate_after_its_retries_against_an_unreachable_endpoint_is_a_storage_failure()
    {
        // What Azure.Core's retry policy throws once its tries against a refused connection run out.
        var retriesRanOut = new AggregateException("Retry failed after 4 tries.", Enumerable.Range(0, 4).Select(_ => new HttpRequestException("Connection refused (127.0.0.1:9)")));

        Assert.True(StorageFailure.Is(retriesRanOut));
        Assert.True(StorageFailure.Is(new Azure.RequestFailedException(503, "Service Unavailable")));
        Assert.True(StorageFailure.Is(new ModelArtifactException("fraud/2/model.json does not match its SHA-256")));
        Assert.True(StorageFailure.Is(new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout")));
    }

    [Fact]
    public void A_bug_or_the_operators_own_cancellation_is_not()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.False(StorageFailure.Is(new InvalidOperationException("a bug")));
        Assert.False(StorageFailure.Is(new AggregateException(new HttpRequestException("refused"), new NullReferenceException())));
        Assert.False(StorageFailure.Is(new AggregateException()));
        Assert.False(StorageFailure.Is(new OperationCanceledException(cancelled.Token), cancelled.Token));
    }
}
