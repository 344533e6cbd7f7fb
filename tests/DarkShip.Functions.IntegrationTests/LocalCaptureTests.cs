using System.Text;
using DarkShip.Functions.Local;
using DarkShip.Storage.Capture;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>The local runner's Capture on Azurite: files per partition and window, named as the service names them, nothing lost.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LocalCaptureTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 10, 59, 58, 400, TimeSpan.Zero);

    [Fact]
    public async Task A_window_is_written_when_its_time_is_up_or_it_is_full_and_empty_windows_write_nothing()
    {
        var container = DemoSystem.Account(azurite).Container("capture" + Guid.NewGuid().ToString("N")[..8]);
        var time = new FakeTimeProvider(Start);
        var path = new CapturePath("local", "mirror");
        var capture = new LocalCapture(container, path, new LocalCaptureOptions(IntervalSeconds: 60, SizeLimitBytes: 1000), time, NullLogger<LocalCapture>.Instance);
        var hub = new LocalEventHub("mirror", 2, time, capture.Add);

        hub.Send([new HubEvent("{\"n\":1}", "a"), new HubEvent("{\"n\":2}", "a")]);
        await capture.WriteDueAsync(all: false, CancellationToken.None);
        Assert.Empty(await NamesAsync(container)); // the window is still open

        time.Advance(TimeSpan.FromSeconds(60));
        await capture.WriteDueAsync(all: false, CancellationToken.None);
        var partition = hub.PartitionFor("a").Id;
        Assert.Equal([path.BlobName(partition, new DateTimeOffset(2026, 11, 30, 10, 59, 58, TimeSpan.Zero))], await NamesAsync(container));

        // A full window does not wait for its time; one partition's files never share a name.
        hub.Send([new HubEvent(new string('x', 1200), "a")]);
        hub.Send([new HubEvent("{\"n\":3}", "a")]);
        await capture.WriteDueAsync(all: false, CancellationToken.None);
        var names = await NamesAsync(container);
        Assert.Equal(2, names.Count);
        Assert.Equal(path.BlobName(partition, time.GetUtcNow().AddTicks(-(time.GetUtcNow().UtcTicks % TimeSpan.TicksPerSecond))), names[1]);

        // Stopping writes the open window; nothing was written for the partition that had no event.
        await capture.WriteDueAsync(all: true, CancellationToken.None);
        names = await NamesAsync(container);
        Assert.Equal(3, names.Count);
        Assert.All(names, n => Assert.StartsWith($"local/mirror/{partition}/2026/11/30/", n, StringComparison.Ordinal));

        var events = new List<CapturedEvent>();
        foreach (var name in names)
        {
            using var file = new MemoryStream((await container.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray());
            Assert.Equal(0, CaptureFile.Read(file, events.Add).UnreadableBlocks);
        }

        Assert.Equal([0L, 1, 2, 3], events.Select(e => e.SequenceNumber));
        Assert.Equal(["{\"n\":1}", "{\"n\":2}", new string('x', 1200), "{\"n\":3}"], events.Select(e => Encoding.UTF8.GetString(e.Body)));
        Assert.All(events, e => Assert.Equal("a", e.PartitionKey));
        Assert.Equal(Start.AddTicks(-(Start.UtcTicks % TimeSpan.TicksPerSecond)), events[0].EnqueuedTime); // Capture's text form holds whole seconds
        Assert.Equal(4, capture.EventsTaken);
    }

    [Fact]
    public async Task A_window_that_cannot_be_written_is_kept_and_written_once_storage_answers()
    {
        var transport = new FailingTransport(failures: 3);
        var container = new Azure.Storage.Blobs.BlobServiceClient(azurite.ConnectionString, new Azure.Storage.Blobs.BlobClientOptions { Transport = transport, Retry = { MaxRetries = 0 } })
            .GetBlobContainerClient("capture" + Guid.NewGuid().ToString("N")[..8]);
        var time = new FakeTimeProvider(Start);
        var capture = new LocalCapture(container, new CapturePath("local", "mirror"), new LocalCaptureOptions(IntervalSeconds: 1), time, NullLogger<LocalCapture>.Instance);
        var hub = new LocalEventHub("mirror", 1, time, capture.Add);
        hub.Send([new HubEvent("{\"n\":1}", null)]);

        for (var tick = 0; tick < 3; tick++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await capture.WriteDueAsync(all: false, CancellationToken.None);
            Assert.Equal(0, capture.FilesWritten); // storage refused: the window is kept
        }

        time.Advance(TimeSpan.FromSeconds(1));
        await capture.WriteDueAsync(all: false, CancellationToken.None);
        Assert.Equal(1, capture.FilesWritten);
        var names = await NamesAsync(container);
        var events = new List<CapturedEvent>();
        CaptureFile.Read(new MemoryStream((await container.GetBlobClient(Assert.Single(names)).DownloadContentAsync()).Value.Content.ToArray()), events.Add);
        Assert.Equal("{\"n\":1}", Encoding.UTF8.GetString(Assert.Single(events).Body));
    }

    /// <summary>Refuses the first <c>failures</c> requests as an unreachable account would, then passes them on.</summary>
    private sealed class FailingTransport(int failures) : Azure.Core.Pipeline.HttpPipelineTransport
    {
        private readonly Azure.Core.Pipeline.HttpClientTransport inner = new();
        private int left = failures;

        public override Azure.Core.Request CreateRequest() => inner.CreateRequest();

        public override void Process(Azure.Core.HttpMessage message) => ProcessAsync(message).AsTask().GetAwaiter().GetResult();

        public override ValueTask ProcessAsync(Azure.Core.HttpMessage message) =>
            Interlocked.Decrement(ref left) >= 0 ? throw new Azure.RequestFailedException("simulated: storage unreachable") : inner.ProcessAsync(message);
    }

    private static async Task<List<string>> NamesAsync(Azure.Storage.Blobs.BlobContainerClient container)
    {
        if (!await container.ExistsAsync())
        {
            return [];
        }

        var names = new List<string>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            names.Add(blob.Name);
        }

        return [.. names.Order(StringComparer.Ordinal)];
    }
}
