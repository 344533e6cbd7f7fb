using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Batching;

/// <summary>Where a <see cref="BatchingQueue{T}"/> (or ShadowScore) delivers its batches.</summary>
/// <remarks>
/// A sink sends a batch in parts (requests, transactions), each exactly once through its transport,
/// whose own retry policy is the only one; a part that still fails is not sent again by anyone, so an
/// item the destination already took is never sent twice by DarkShip. A part the destination refuses as
/// invalid is narrowed to the items at fault, so one bad item never sinks the others.
/// </remarks>
public interface IBatchSink<T>
{
    /// <summary>Delivers what it can of <paramref name="batch"/> and says what it could not.</summary>
    Task<BatchDelivery> WriteAsync(IReadOnlyList<T> batch, CancellationToken cancellationToken);
}

/// <summary>What became of a batch handed to an <see cref="IBatchSink{T}"/>.</summary>
/// <param name="Delivered">Items the destination took.</param>
/// <param name="Rejected">Items the destination refused as invalid (too large, malformed): sending them again cannot help.</param>
/// <param name="Failed">Items not delivered because the destination failed (after the transport's retries): a later attempt may succeed.</param>
/// <param name="Error">The first error, for the log.</param>
public readonly record struct BatchDelivery(int Delivered, int Rejected, int Failed, Exception? Error)
{
    /// <summary>All <paramref name="count"/> items were delivered.</summary>
    public static BatchDelivery All(int count) => new(count, 0, 0, null);

    /// <summary>Whether every item was delivered.</summary>
    public bool Complete => Rejected == 0 && Failed == 0;

    /// <summary>This delivery and <paramref name="other"/> together.</summary>
    public BatchDelivery Add(BatchDelivery other) =>
        new(Delivered + other.Delivered, Rejected + other.Rejected, Failed + other.Failed, Error ?? other.Error);
}

/// <summary>How a <see cref="BatchingQueue{T}"/> buffers and sends.</summary>
public sealed class BatchingOptions
{
    /// <summary>Items the buffer holds before new ones are dropped. Default 10,000.</summary>
    public int Capacity { get; set; } = 10_000;

    /// <summary>Most items per batch. Default 100.</summary>
    public int MaxBatchSize { get; set; } = 100;

}

/// <summary>
/// A bounded in-process buffer and a single batch sender: the only way work leaves the request
/// path. <see cref="TryEnqueue"/> never blocks and never throws: when the buffer is full the item is
/// dropped and counted. The sender takes whatever is buffered (up to the batch size) as one batch, so
/// batches grow with load. The queue does not retry: the sink's transport retries each part of a batch
/// (see <see cref="IBatchSink{T}"/>), so a part that was taken is never sent twice; what the sink could
/// not deliver is counted and logged, never thrown back.
/// <see cref="StopAsync"/> stops taking items and flushes what is buffered within a deadline.
/// </summary>
public sealed partial class BatchingQueue<T>
{
    private readonly Channel<T> channel;
    private readonly IBatchSink<T> sink;
    private readonly BatchingOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource abandon = new();
    private Task? running;
    private readonly ProgressSignal batchDone = new();
    private long enqueued;
    private long delivered;
    private long dropped;
    private long failed;

    /// <summary>Creates a queue named <paramref name="name"/> (in logs) delivering to <paramref name="sink"/>.</summary>
    public BatchingQueue(string name, IBatchSink<T> sink, BatchingOptions options, TimeProvider time, ILogger logger)
    {
        Name = name;
        this.sink = sink;
        this.options = options;
        this.time = time;
        this.logger = logger;
        channel = Channel.CreateBounded<T>(new BoundedChannelOptions(options.Capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: refuse when full, so the newest item is the one dropped
        });
    }

    /// <summary>The queue's name in logs.</summary>
    public string Name { get; }

    /// <summary>Items accepted.</summary>
    public long Enqueued => Interlocked.Read(ref enqueued);

    /// <summary>Items the sink took.</summary>
    public long Delivered => Interlocked.Read(ref delivered);

    /// <summary>Items refused because the buffer was full or the queue stopped.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Items lost because the destination failed or refused them.</summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>Items waiting in the buffer.</summary>
    public int Buffered => channel.Reader.Count;

    /// <summary>Queues <paramref name="item"/>, or drops and counts it.</summary>
    public bool TryEnqueue(T item)
    {
        if (channel.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref enqueued);
            return true;
        }

        Telemetry.DarkShipTelemetry.QueueDropped.Add(1, new KeyValuePair<string, object?>("queue", Name));
        if (Interlocked.Increment(ref dropped) is var n && (n & (n - 1)) == 0)
        {
            LogDropped(logger, Name, n); // at 1, 2, 4, 8, … drops: visible without flooding the log
        }

        return false;
    }

    /// <summary>
    /// Waits until every item accepted before the call has been delivered or counted lost: the explicit
    /// flush a caller uses instead of polling for a write (tests, a verb that must see its own writes).
    /// </summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = Enqueued;
        return batchDone.WaitUntilAsync(() => Delivered + Failed >= target, cancellationToken);
    }

    /// <summary>Starts the sender.</summary>
    public void Start() => running ??= Task.Run(SendLoopAsync);

    /// <summary>
    /// Stops accepting items and delivers what is buffered, giving up after <paramref name="deadline"/>;
    /// then logs what the queue came to, so a shutdown (with storage down, say) says what it could not deliver.
    /// </summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        channel.Writer.TryComplete();
        var abandoned = 0;
        if (running is not null)
        {
            if (await Task.WhenAny(running, Task.Delay(deadline, time)).ConfigureAwait(false) != running)
            {
                abandoned = Buffered;
                await abandon.CancelAsync().ConfigureAwait(false);
                LogAbandoned(logger, Name, abandoned);
            }

            try
            {
                await running.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        var undelivered = Failed + Dropped + abandoned;
        if (undelivered > 0)
        {
            LogStoppedWithLosses(logger, Name, Enqueued, Delivered, Failed, Dropped, abandoned);
        }
        else
        {
            LogStopped(logger, Name, Delivered);
        }
    }

    private async Task SendLoopAsync()
    {
        var batch = new List<T>(options.MaxBatchSize);
        var reader = channel.Reader;
        while (await reader.WaitToReadAsync(abandon.Token).ConfigureAwait(false))
        {
            while (batch.Count < options.MaxBatchSize && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            await DeliverAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task DeliverAsync(List<T> batch)
    {
        BatchDelivery delivery;
        try
        {
            delivery = await sink.WriteAsync(batch, abandon.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!abandon.IsCancellationRequested)
        {
            delivery = new BatchDelivery(0, 0, batch.Count, e); // a sink that throws has delivered nothing it can vouch for
        }

        Interlocked.Add(ref delivered, delivery.Delivered);
        var lost = delivery.Rejected + delivery.Failed;
        if (lost > 0)
        {
            Interlocked.Add(ref failed, lost);
            Telemetry.DarkShipTelemetry.QueueFailed.Add(lost, new KeyValuePair<string, object?>("queue", Name));
            LogLost(logger, delivery.Error, Name, lost, batch.Count, delivery.Rejected, delivery.Failed);
        }

        batchDone.Pulse();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Queue}: buffer full, {Dropped} item(s) dropped so far")]
    private static partial void LogDropped(ILogger logger, string queue, long dropped);

    [LoggerMessage(EventId = 6401, EventName = "QueueItemsLost", Level = LogLevel.Error, Message = "{Queue}: {Lost} of {Count} items lost ({Rejected} refused by the destination, {Failed} not delivered after the transport's retries)")]
    private static partial void LogLost(ILogger logger, Exception? exception, string queue, int lost, int count, int rejected, int failed);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Queue}: stopped; all {Delivered} items delivered")]
    private static partial void LogStopped(ILogger logger, string queue, long delivered);

    [LoggerMessage(EventId = 6400, EventName = "QueueStoppedWithLosses", Level = LogLevel.Error,
        Message = "{Queue}: stopped; {Delivered} of {Enqueued} items delivered, {Failed} lost to the destination, {Dropped} dropped, {Abandoned} still buffered at the shutdown deadline")]
    private static partial void LogStoppedWithLosses(ILogger logger, string queue, long enqueued, long delivered, long failed, long dropped, int abandoned);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Queue}: shutdown deadline passed with {Buffered} item(s) unsent")]
    private static partial void LogAbandoned(ILogger logger, string queue, int buffered);
}
