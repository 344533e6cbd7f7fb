using DarkShip.Serving.Export;
using DarkShip.Serving.Manifests;
using DarkShip.Storage.Capture;

namespace DarkShip.Storage.IntegrationTests;

/// <summary>
/// The model log read from Capture files on Azurite (Azure.Storage.Blobs): the files python3-avro wrote
/// (DarkShip.Storage.Tests/Fixtures/capture), placed as Capture places them, read as the table's rows, with every
/// event that is not one counted.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CaptureLogScannerTests(AzuriteFixture azurite)
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "capture");
    private static readonly DateTimeOffset Hour = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_hour_is_the_rows_of_its_predictions_in_row_key_order_and_what_is_not_a_mirror_event_is_counted()
    {
        var (scanner, report, _) = await CaptureAsync(File.ReadAllBytes(Path.Combine(Fixtures, "deflate.avro")));

        var rows = await scanner.ReadHourAsync("fraud", Hour, after: null).ToListAsync();

        Assert.Equal(9, rows.Count); // ten mirror events of schema 1 but one is of schema 2; the two others are not events
        Assert.Equal(rows.Select(r => r.RowKey).Order(StringComparer.Ordinal), rows.Select(r => r.RowKey));
        Assert.All(rows, r => Assert.Equal(r.Entry.PredictionId + "_1", r.RowKey));
        Assert.All(rows, r => Assert.Equal(("champion", true), (r.Entry.Arm, r.Entry.Served)));
        Assert.Equal((1, 12, 0, 0, 2, 1), (report.Files, report.Events, report.UnreadableFiles, report.UnreadableBlocks, report.UnreadableEvents, report.NewerSchema));
        Assert.True(report.HasProblems);

        // Resuming after a row gives the rest; another hour and another model give nothing.
        Assert.Equal(rows.Skip(4).Select(r => r.RowKey), (await scanner.ReadHourAsync("fraud", Hour, rows[3].RowKey).ToListAsync()).Select(r => r.RowKey));
        Assert.Empty(await scanner.ReadHourAsync("fraud", Hour.AddHours(1), null).ToListAsync());
        Assert.Empty(await scanner.ReadHourAsync("eta", Hour, null).ToListAsync());
        Assert.Equal(1, report.Files); // a file read for several hours counts once
    }

    [Fact]
    public async Task A_file_outside_the_hours_windows_is_not_read_and_a_file_that_is_not_avro_is_counted()
    {
        var (scanner, report, container) = await CaptureAsync(File.ReadAllBytes(Path.Combine(Fixtures, "null-codec.avro")), window: Hour.AddHours(-2));
        await container.GetBlobClient(new CapturePath("ns", "mirror").BlobName("1", Hour.AddMinutes(30))).UploadAsync(BinaryData.FromString("not avro"));

        Assert.Empty(await scanner.ReadHourAsync("fraud", Hour, after: null).ToListAsync());
        Assert.Equal((1, 0, 1), (report.Files, report.Events, report.UnreadableFiles));
    }

    private async Task<(CaptureLogScanner Scanner, CaptureReadReport Report, Azure.Storage.Blobs.BlobContainerClient Container)> CaptureAsync(byte[] file, DateTimeOffset? window = null)
    {
        var container = new StorageClients(azurite.Endpoints).Container("capture" + Guid.NewGuid().ToString("N")[..12]);
        await container.CreateAsync();
        var path = new CapturePath("ns", "mirror");
        await container.GetBlobClient(path.BlobName("0", window ?? Hour.AddMinutes(15))).UploadAsync(BinaryData.FromBytes(file));
        var report = new CaptureReadReport();
        return (new CaptureLogScanner(container, path, new MirroredPredictions(new NoManifests()), report), report, container);
    }

    /// <summary>Every fixture event is served by the champion: no manifest is needed to rebuild an input.</summary>
    private sealed class NoManifests : IServedManifests
    {
        public ValueTask<ModelManifest?> FindAsync(string model, string version, CancellationToken cancellationToken = default) => ValueTask.FromResult<ModelManifest?>(null);
    }
}
