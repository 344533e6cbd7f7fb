using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using DarkShip.Functions.Hosting;
using DarkShip.Storage.Capture;

namespace DarkShip.Functions.Local;

/// <summary>
/// Capture's settings for the local hub, with bicep/modules/eventhubs.bicep's values as defaults:
/// a file per partition every <see cref="IntervalSeconds"/> or <see cref="SizeLimitBytes"/>, whichever comes first.
/// </summary>
/// <param name="IntervalSeconds">The time window (<c>Capture__IntervalSeconds</c>; the Bicep's <c>captureIntervalSeconds</c> default, 300).</param>
/// <param name="SizeLimitBytes">The size window (<c>Capture__SizeLimitBytes</c>; the Bicep's <c>sizeLimitInBytes</c>, 300 MiB).</param>
/// <param name="Container">The container (<c>Capture__Container</c>; the Bicep's <c>captureContainerName</c>).</param>
internal sealed record LocalCaptureOptions(int IntervalSeconds = 300, long SizeLimitBytes = 314_572_800, string Container = CapturePath.DefaultContainer)
{
    /// <summary>The options in <paramref name="settings"/>; a value that is not a positive number stops the run with the setting's name.</summary>
    public static LocalCaptureOptions From(LocalSettings settings)
    {
        var options = new LocalCaptureOptions();
        if (settings.Values.TryGetValue("Capture__IntervalSeconds", out var interval))
        {
            options = options with { IntervalSeconds = int.TryParse(interval, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : throw new InvalidSettingException("Capture__IntervalSeconds", interval, "a whole number of seconds above 0") };
        }

        if (settings.Values.TryGetValue("Capture__SizeLimitBytes", out var size))
        {
            options = options with { SizeLimitBytes = long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b > 0 ? b : throw new InvalidSettingException("Capture__SizeLimitBytes", size, "a whole number of bytes above 0") };
        }

        return settings.Values.TryGetValue("Capture__Container", out var container) && container.Length > 0 ? options with { Container = container } : options;
    }
}

/// <summary>
/// Event Hubs Capture for the local mirror hub: every event the hub stores is also written, per partition and
/// time or size window, as a Capture Avro file to the storage account's Capture container, named as the Bicep
/// names the service's files (<see cref="CapturePath"/>), so traffic of a local run can be exported and replayed
/// from Capture on one machine. Empty windows write nothing (the Bicep's <c>skipEmptyArchives</c>). A window whose
/// upload fails is kept and tried again; the windows still open are written when the runner stops.
/// </summary>
internal sealed partial class LocalCapture(BlobContainerClient container, CapturePath path, LocalCaptureOptions options, TimeProvider time, ILogger<LocalCapture> logger) : BackgroundService
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Window> open = new(StringComparer.Ordinal);
    private readonly List<(string Partition, Window Window)> due = [];
    private readonly Dictionary<string, DateTimeOffset> lastNamed = new(StringComparer.Ordinal);
    private bool containerReady;

    /// <summary>Events taken so far.</summary>
    public int EventsTaken => Volatile.Read(ref eventsTaken);

    private int eventsTaken;

    /// <summary>Files written so far.</summary>
    public int FilesWritten { get; private set; }

    /// <summary>The Capture path of this hub.</summary>
    public CapturePath Path => path;

    /// <summary>Takes an event the hub stored in <paramref name="partition"/>.</summary>
    public void Add(string partition, StoredEvent e)
    {
        var body = Encoding.UTF8.GetBytes(e.Body);
        lock (gate)
        {
            if (!open.TryGetValue(partition, out var window))
            {
                open[partition] = window = new Window(e.EnqueuedTime);
            }

            window.Events.Add(new CapturedEvent(e.SequenceNumber, e.Offset.ToString(CultureInfo.InvariantCulture), e.EnqueuedTime, body, e.PartitionKey));
            window.Bytes += body.Length;
            eventsTaken++;
            if (window.Bytes >= options.SizeLimitBytes)
            {
                open.Remove(partition);
                due.Add((partition, window));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Min(1000, options.IntervalSeconds * 250)), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await WriteDueAsync(all: false, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Longest the runner's stop waits for its open windows to be written.</summary>
    public static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(5);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // What the runner captured before it stopped is written, within a limit: storage that is gone does not hold the stop.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(StopLimit);
        await WriteDueAsync(all: true, limit.Token);
        lock (gate)
        {
            foreach (var (partition, window) in due)
            {
                LogNotCaptured(logger, partition, window.Events.Count);
            }
        }
    }

    /// <summary>Writes every window that is full or whose time is up (every open one when <paramref name="all"/>).</summary>
    public async Task WriteDueAsync(bool all, CancellationToken cancellationToken)
    {
        List<(string Partition, Window Window)> writing;
        lock (gate)
        {
            var now = time.GetUtcNow();
            foreach (var (partition, window) in open.Where(w => all || now - w.Value.Start >= TimeSpan.FromSeconds(options.IntervalSeconds)).ToList())
            {
                open.Remove(partition);
                due.Add((partition, window));
            }

            writing = [.. due];
            due.Clear();
        }

        for (var i = 0; i < writing.Count; i++)
        {
            var (partition, window) = writing[i];
            try
            {
                await WriteAsync(partition, window, cancellationToken);
                FilesWritten++;
            }
            catch (Exception e) when (e is RequestFailedException or HttpRequestException or OperationCanceledException or IOException or AggregateException)
            {
                LogWriteFailed(logger, partition, window.Events.Count, e.Message);
                lock (gate)
                {
                    due.AddRange(writing[i..]); // this one and the rest are tried again at the next tick: storage that refused one is not asked for the others now
                }

                return;
            }
        }
    }

    private async Task WriteAsync(string partition, Window window, CancellationToken cancellationToken)
    {
        if (!containerReady)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            containerReady = true;
        }

        using var file = new MemoryStream();
        CaptureFile.Write(file, window.Events);
        // Named by the window's start, to the second, as the service names its files; a name is never reused.
        window.Name ??= NameFor(partition, window.Start);
        var content = BinaryData.FromBytes(file.GetBuffer().AsMemory(0, (int)file.Length));
        while (true)
        {
            try
            {
                await container.GetBlobClient(path.BlobName(partition, window.Name.Value)).UploadAsync(content, overwrite: false, cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                window.Name = NameFor(partition, window.Name.Value.AddSeconds(1)); // a file of an earlier run holds that second: never overwrite one
            }
        }
    }

    private DateTimeOffset NameFor(string partition, DateTimeOffset start)
    {
        var second = new DateTimeOffset(start.UtcTicks - (start.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        lock (gate)
        {
            if (lastNamed.TryGetValue(partition, out var last) && second <= last)
            {
                second = last.AddSeconds(1);
            }

            lastNamed[partition] = second;
        }

        return second;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Capture: the runner stopped before partition {Partition}'s window of {Events} events could be written; they are not in Capture")]
    private static partial void LogNotCaptured(ILogger logger, string partition, int events);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Capture: partition {Partition}'s window of {Events} events could not be written, tried again shortly: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string partition, int events, string reason);

    private sealed class Window(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;

        public List<CapturedEvent> Events { get; } = [];

        public long Bytes { get; set; }

        public DateTimeOffset? Name { get; set; }
    }
}
