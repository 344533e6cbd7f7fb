using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Batching;

/// <summary>Where a <see cref="BatchingQueue{T}"/> delivers its batches.</summary>
public interface IBatchSink<T>
{
    /// <summary>Delivers <paramref name="batch"/> as a whole; throws when it could not.</summary>
    Task WriteAsync(IReadOnlyList<T> batch, CancellationToken cancellationToken);
}

/// <summary>How a <see cref="BatchingQueue{T}"/> buffers and sends.</summary>
public sealed class BatchingOptions
{
    /// <summary>Items the buffer holds before new ones are dropped. Default 10,000.</summary>
    public int Capacity { get; set; } = 10_000;

    /// <summary>Most items per batch. Default 100.</summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>Attempts per batch before it is counted as failed. Default 3.</summary>
    public int Attempts { get; set; } = 3;

    /// <summary>Wait before the second attempt; doubles for each later one. Default 200 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>
/// A bounded in-process buffer and a single batch sender: the only way work leaves the request
/// path. <see cref="TryEnqueue"/> never blocks and never throws: when the buffer is full the item is
/// dropped and counted. The sender takes whatever is buffered (up to the batch size) as one batch, so
/// batches grow with load; a failing batch is retried, then counted and logged, never thrown back.
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

    /// <summary>Items lost because their batch failed every attempt.</summary>
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

    /// <summary>Starts the sender.</summary>
    public void Start() => running ??= Task.Run(SendLoopAsync);

    /// <summary>Stops accepting items and delivers what is buffered, giving up after <paramref name="deadline"/>.</summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        channel.Writer.TryComplete();
        if (running is null)
        {
            return;
        }

        if (await Task.WhenAny(running, Task.Delay(deadline, time)).ConfigureAwait(false) != running)
        {
            await abandon.CancelAsync().ConfigureAwait(false);
            LogAbandoned(logger, Name, Buffered);
        }

        try
        {
            await running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
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
        var delay = options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await sink.WriteAsync(batch, abandon.Token).ConfigureAwait(false);
                Interlocked.Add(ref delivered, batch.Count);
                return;
            }
            catch (Exception e) when (!abandon.IsCancellationRequested)
            {
                if (attempt >= options.Attempts)
                {
                    Interlocked.Add(ref failed, batch.Count);
                    Telemetry.DarkShipTelemetry.QueueFailed.Add(batch.Count, new KeyValuePair<string, object?>("queue", Name));
                    LogFailed(logger, e, Name, batch.Count, attempt);
                    return;
                }

                LogRetrying(logger, Name, batch.Count, attempt, e.Message);
                await Task.Delay(delay, time, abandon.Token).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Queue}: buffer full, {Dropped} item(s) dropped so far")]
    private static partial void LogDropped(ILogger logger, string queue, long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Queue}: batch of {Count} failed (attempt {Attempt}), retrying: {Reason}")]
    private static partial void LogRetrying(ILogger logger, string queue, int count, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Queue}: batch of {Count} lost after {Attempts} attempts")]
    private static partial void LogFailed(ILogger logger, Exception exception, string queue, int count, int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Queue}: shutdown deadline passed with {Buffered} item(s) unsent")]
    private static partial void LogAbandoned(ILogger logger, string queue, int buffered);
}
