using DarkShip.Serving.Batching;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Batching;

public sealed class BatchingQueueTests
{
    private sealed class Sink(int failFirst = 0, TaskCompletionSource? gate = null) : IBatchSink<int>
    {
        private int calls;

        public List<int> Received { get; } = [];

        public async Task WriteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
        {
            if (gate is not null)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            if (Interlocked.Increment(ref calls) <= failFirst)
            {
                throw new IOException("down");
            }

            lock (Received)
            {
                Received.AddRange(batch);
            }
        }
    }

    private static BatchingQueue<int> Queue(Sink sink, int capacity = 100, int attempts = 3) =>
        new("test", sink, new BatchingOptions { Capacity = capacity, MaxBatchSize = 10, Attempts = attempts, RetryDelay = TimeSpan.Zero }, TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task Stop_FlushesEverythingBuffered()
    {
        var sink = new Sink();
        var queue = Queue(sink);
        for (var i = 0; i < 95; i++)
        {
            Assert.True(queue.TryEnqueue(i));
        }

        queue.Start();
        await queue.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Enumerable.Range(0, 95), sink.Received);
        Assert.Equal((95, 95, 0, 0), (queue.Enqueued, queue.Delivered, queue.Dropped, queue.Failed));
    }

    [Fact]
    public async Task TryEnqueue_BufferFull_DropsAndCountsWithoutBlocking()
    {
        var gate = new TaskCompletionSource();
        var sink = new Sink(gate: gate);
        var queue = Queue(sink, capacity: 5);

        var accepted = Enumerable.Range(0, 8).Count(queue.TryEnqueue);

        Assert.Equal((5, 3L), (accepted, queue.Dropped));
        queue.Start();
        gate.SetResult();
        await queue.StopAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, sink.Received.Count);
    }

    [Fact]
    public async Task Send_FailingSink_RetriesThenCountsTheBatchAsFailed()
    {
        var sink = new Sink(failFirst: 5);
        var queue = Queue(sink, attempts: 3);
        queue.TryEnqueue(1);
        queue.Start();
        await queue.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((0L, 1L), (queue.Delivered, queue.Failed));
    }

    [Fact]
    public async Task Send_TransientFailure_IsRetried()
    {
        var sink = new Sink(failFirst: 1);
        var queue = Queue(sink);
        queue.TryEnqueue(1);
        queue.Start();
        await queue.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([1], sink.Received);
    }

    [Fact]
    public async Task TryEnqueue_AfterStop_IsRefused()
    {
        var queue = Queue(new Sink());
        queue.Start();
        await queue.StopAsync(TimeSpan.FromSeconds(30));

        Assert.False(queue.TryEnqueue(1));
        Assert.Equal(1, queue.Dropped);
    }
}
