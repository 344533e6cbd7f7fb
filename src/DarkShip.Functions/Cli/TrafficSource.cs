using System.CommandLine;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Export;
using DarkShip.Storage.Capture;

namespace DarkShip.Functions.Cli;

/// <summary>
/// Where <c>export</c> and <c>replay</c> read logged traffic: <c>--source log</c>, the PredictionLog table (every
/// version, shadows too, for the table's retention), or <c>--source capture</c>, the mirror hub's Event Hubs Capture
/// files (the live path's versions, for as long as the container keeps them), from <c>--container</c> and the hub's
/// folder <c>--capture-path NAMESPACE/HUB</c> (the container's only one when not given).
/// </summary>
internal sealed class TrafficSource
{
    private readonly Option<string> source = new("--source") { Description = "log (the PredictionLog table) or capture (the mirror hub's Event Hubs Capture files).", DefaultValueFactory = _ => "log" };
    private readonly Option<string> container = new("--container") { Description = "The Capture container (with --source capture).", DefaultValueFactory = _ => CapturePath.DefaultContainer };
    private readonly Option<string?> capturePath = new("--capture-path") { Description = "NAMESPACE/HUB: the hub's folder in the Capture container (default: the only one there)." };

    public TrafficSource() => source.AcceptOnlyFromAmong("log", "capture");

    public IEnumerable<Option> Options => [source, container, capturePath];

    /// <summary>
    /// The traffic the command line names; or, after telling <paramref name="error"/> why it cannot be read
    /// (<c>{verb}: …</c>), none and the verb's exit code: 2 for a bad option or a missing container, 1 when storage failed.
    /// </summary>
    public async Task<(Traffic? Traffic, int ExitCode)> OpenAsync(ParseResult r, StorageAccount account, IServedManifests manifests, string verb, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return await TryOpenAsync(r, account, manifests, verb, error, cancellationToken) is { } traffic ? (traffic, 0) : (null, 2);
        }
        catch (Exception e) when (StorageFailure.Is(e, cancellationToken))
        {
            await error.WriteLineAsync($"{verb}: Capture could not be listed: {e.Message}");
            return (null, 1);
        }
    }

    private async Task<Traffic?> TryOpenAsync(ParseResult r, StorageAccount account, IServedManifests manifests, string verb, TextWriter error, CancellationToken cancellationToken)
    {
        if (r.GetValue(source) != "capture")
        {
            return new Traffic(account.PredictionLog(), null);
        }

        CapturePath? path = null;
        if (r.GetValue(capturePath) is { } given && (path = CapturePath.Parse(given)) is null)
        {
            await error.WriteLineAsync($"{verb}: --capture-path '{given}' is not NAMESPACE/HUB.");
            return null;
        }

        var blobs = account.Container(r.GetValue(container)!);
        if (!await blobs.ExistsAsync(cancellationToken))
        {
            await error.WriteLineAsync($"{verb}: the container '{blobs.Name}' does not exist: is Capture on (bicep/modules/eventhubs.bicep), or is it another container (--container)?");
            return null;
        }

        if (path is null)
        {
            var paths = await CaptureLogScanner.PathsAsync(blobs, cancellationToken);
            if (paths.Count != 1)
            {
                await error.WriteLineAsync(paths.Count == 0
                    ? $"{verb}: the container '{blobs.Name}' holds no Capture files."
                    : $"{verb}: the container '{blobs.Name}' holds several hubs' files ({string.Join(", ", paths.Select(p => p.Namespace + "/" + p.EventHub))}): name one with --capture-path.");
                return null;
            }

            path = paths[0];
        }

        var report = new CaptureReadReport();
        return new Traffic(new CaptureLogScanner(blobs, path, new MirroredPredictions(manifests), report), report);
    }

    /// <summary>Says what reading Capture came to, when it was read.</summary>
    public static async Task ReportAsync(Traffic traffic, string verb, TextWriter error)
    {
        if (traffic.Capture is { } report)
        {
            await error.WriteLineAsync($"{verb}: read {report}" + (report.HasProblems ? " — the rows of what could not be read are missing from the output" : ""));
        }
    }
}

/// <summary>Logged traffic to read, and what reading Capture came to (when it is Capture).</summary>
internal sealed record Traffic(IPredictionLogScanner Log, CaptureReadReport? Capture);
