using DarkShip.Serving.Batching;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Batching;

public sealed class BatchingQueueTests
{
    /// <summary>Takes batches; can hold them at a gate, or answer with a delivery that lost some, or throw.</summary>
    private sealed class Sink(TaskCompletionSource? gate = null, Func<IReadOnlyList<int>, BatchDelivery>? answer = null) : IBatchSink<int>
    {
        public List<IReadOnlyList<int>> Batches { get; } = [];

        public IEnumerable<int> Received => Batches.SelectMany(b => b);

        public async Task<BatchDelivery> WriteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
        {
            if (gate is not null)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            lock (Batches)
            {
                Batches.Add([.. batch]);
            }

            return answer?.Invoke(batch) ?? BatchDelivery.All(batch.Count);
        }
    }

    private static BatchingQueue<int> Queue(Sink sink, int capacity = 100) =>
        new("test", sink, new BatchingOptions { Capacity = capacity, MaxBatchSize = 10 }, TimeProvider.System, NullLogger.Instance);

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
    public async Task Flush_ReturnsOnceEverythingAcceptedBeforeIsDeliveredOrLost_WhileTheQueueRuns()
    {
        var gate = new TaskCompletionSource();
        var sink = new Sink(gate: gate, answer: b => b.Contains(3) ? new BatchDelivery(b.Count - 1, 0, 1, null) : BatchDelivery.All(b.Count));
        var queue = Queue(sink);
        queue.Start();
        for (var i = 0; i < 25; i++)
        {
            Assert.True(queue.TryEnqueue(i));
        }

        var flush = queue.FlushAsync(CancellationToken.None);
        await Task.Yield();
        Assert.False(flush.IsCompleted); // the sink holds the first batch
        gate.SetResult();
        await flush.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(25, queue.Delivered + queue.Failed);
        Assert.Equal(Enumerable.Range(0, 25), sink.Received);
        Assert.True(queue.FlushAsync(CancellationToken.None).IsCompleted); // nothing pending: returns at once
        await queue.StopAsync(TimeSpan.FromSeconds(30));
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
        Assert.Equal(5, sink.Received.Count());
    }

    [Fact]
    public async Task Send_PartlyDelivered_CountsWhatWasLost_AndNeverSendsABatchAgain()
    {
        var sink = new Sink(answer: b => new BatchDelivery(b.Count - 3, 1, 2, new IOException("down")));
        var queue = Queue(sink);
        for (var i = 0; i < 10; i++)
        {
            queue.TryEnqueue(i);
        }

        queue.Start();
        await queue.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Single(sink.Batches); // the transport retried its parts; the queue does not send anything twice
        Assert.Equal((7L, 3L), (queue.Delivered, queue.Failed));
    }

    [Fact]
    public async Task Send_SinkThatThrows_CountsTheBatchAsFailed_AndGoesOn()
    {
        var calls = 0;
        var sink = new Sink(answer: b => Interlocked.Increment(ref calls) == 1 ? throw new IOException("down") : BatchDelivery.All(b.Count));
        var queue = Queue(sink);
        queue.TryEnqueue(1);
        queue.Start();
        while (Volatile.Read(ref calls) == 0)
        {
            await Task.Delay(5);
        }

        queue.TryEnqueue(2);
        await queue.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((1L, 1L), (queue.Delivered, queue.Failed));
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
