using System.Collections.Concurrent;
using System.Globalization;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using DarkShip.Serving.Export;
using DarkShip.Serving.Mirror;
using DarkShip.Storage.Adapters;

namespace DarkShip.Storage.Capture;

/// <summary>What reading Capture came to: every file, event and problem counted once, whatever the hours that read a file.</summary>
public sealed class CaptureReadReport
{
    private readonly ConcurrentDictionary<string, bool> files = new(StringComparer.Ordinal);
    private int events;
    private int unreadableFiles;
    private int unreadableBlocks;
    private int unreadableEvents;
    private int newerSchema;
    private int unbuilt;
    private int duplicates;

    /// <summary>Capture files read.</summary>
    public int Files => files.Count;

    /// <summary>Events read from them.</summary>
    public int Events => events;

    /// <summary>Files that are not Avro container files at all.</summary>
    public int UnreadableFiles => unreadableFiles;

    /// <summary>Avro blocks that could not be decoded (their events are lost to this read).</summary>
    public int UnreadableBlocks => unreadableBlocks;

    /// <summary>Events whose body is not a mirror event.</summary>
    public int UnreadableEvents => unreadableEvents;

    /// <summary>Mirror events of a newer schema than this build reads.</summary>
    public int NewerSchema => newerSchema;

    /// <summary>Versions' rows that could not be rebuilt: not served, and their manifest is no longer registered.</summary>
    public int Unbuilt => unbuilt;

    /// <summary>Events captured twice (a producer's retried send): the first one counts.</summary>
    public int Duplicates => duplicates;

    /// <summary>Whether anything could not be read.</summary>
    public bool HasProblems => UnreadableFiles + UnreadableBlocks + UnreadableEvents + NewerSchema + Unbuilt > 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Files} Capture files, {Events} events; unreadable: {UnreadableFiles} files, {UnreadableBlocks} blocks, {UnreadableEvents} events; {NewerSchema} of a newer schema; {Unbuilt} rows without a manifest to rebuild them; {Duplicates} duplicates dropped");

    /// <summary>Whether <paramref name="blob"/> is read for the first time (its counts count then only).</summary>
    internal bool FirstRead(string blob) => files.TryAdd(blob, true);

    internal void Count(CaptureFileRead read, int badEvents, int newer, int rows)
    {
        Interlocked.Add(ref events, read.Events);
        if (read.UnreadableBlocks < 0)
        {
            Interlocked.Increment(ref unreadableFiles);
        }
        else
        {
            Interlocked.Add(ref unreadableBlocks, read.UnreadableBlocks);
        }

        Interlocked.Add(ref unreadableEvents, badEvents);
        Interlocked.Add(ref newerSchema, newer);
        Interlocked.Add(ref unbuilt, rows);
    }

    internal void Duplicate() => Interlocked.Increment(ref duplicates);
}

/// <summary>
/// The model log read back from Event Hubs Capture instead of the PredictionLog table: every mirror event of the
/// hub's files, turned into the rows the live path logged (<see cref="MirroredPredictions"/>), in the table's
/// row-key order, so export and replay read it as they read the table. An hour's rows are those whose prediction
/// was made in it; they are found in the files whose windows start from <see cref="Slack"/> before the hour to
/// <see cref="Slack"/> after it (a window holds what was enqueued during it, and the mirror sends a little after
/// the prediction). Files are listed by time prefix per partition, so a range reads only its blobs; each is
/// streamed, never held whole; an hour's rows of the model are held to sort them (<see cref="HoursReadAhead"/>). Nothing unreadable is skipped silently: <see cref="CaptureReadReport"/> counts it.
/// Shadow scores are not in Capture (ShadowScore writes them to the table only).
/// </summary>
public sealed class CaptureLogScanner(BlobContainerClient container, CapturePath path, MirroredPredictions predictions, CaptureReadReport report) : IPredictionLogScanner
{
    /// <summary>How far before and after an hour its predictions' events may sit: Capture's longest window (15 min) and the mirror's send delay.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromMinutes(20);

    private Task<List<string>>? partitions;

    /// <summary>An hour's rows are held in memory to put them in the table's order: two hours at a time, the one handed on and the next.</summary>
    public int HoursReadAhead => 2;

    /// <inheritdoc />
    public async IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, string? version = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var from = hour - Slack;
        var to = hour.AddHours(1) + Slack;
        var rows = new Dictionary<string, PredictionLogEntry>(StringComparer.Ordinal);
        foreach (var partition in await (partitions ??= PartitionsAsync(cancellationToken)).ConfigureAwait(false))
        {
            for (var h = TrainingSetExporter.Floor(from); h < to; h = h.AddHours(1))
            {
                await foreach (var blob in container.GetBlobsAsync(new GetBlobsOptions { Prefix = path.HourPrefix(partition, h) }, cancellationToken).ConfigureAwait(false))
                {
                    if (CapturePath.WindowOf(blob.Name) is { } window && window >= from && window < to)
                    {
                        await ReadFileAsync(blob.Name, model, hour, version, rows, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        foreach (var (key, entry) in rows.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (after is null || string.CompareOrdinal(key, after) > 0)
            {
                yield return new LoggedRow(key, entry);
            }
        }
    }

    private async Task ReadFileAsync(string blob, string model, DateTimeOffset hour, string? version, Dictionary<string, PredictionLogEntry> rows, CancellationToken cancellationToken)
    {
        var bodies = new List<byte[]>();
        CaptureFileRead read;
        var stream = await container.GetBlobClient(blob).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = 4 << 20 }, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            read = await Task.Run(() => CaptureFile.Read(stream, e => bodies.Add(e.Body)), cancellationToken).ConfigureAwait(false);
        }

        var first = report.FirstRead(blob);
        int bad = 0, newer = 0, unbuilt = 0;
        foreach (var body in bodies)
        {
            MirrorEvent e;
            try
            {
                e = MirrorEventJson.Deserialize(body);
            }
            catch (UnsupportedSchemaException)
            {
                newer++;
                continue;
            }
            catch (FormatException)
            {
                bad++;
                continue;
            }

            if (e.Model != model || TrainingSetExporter.Floor(e.Timestamp) != hour)
            {
                continue;
            }

            var mirrored = await predictions.RowsAsync(e, version, cancellationToken).ConfigureAwait(false);
            unbuilt += mirrored.Unbuilt;
            foreach (var entry in mirrored.Rows)
            {
                if (!rows.TryAdd(TablePredictionLog.RowKey(entry.PredictionId, entry.Version), entry) && first)
                {
                    report.Duplicate();
                }
            }
        }

        if (first)
        {
            report.Count(read, bad, newer, unbuilt);
        }
    }

    /// <summary>The hub's partitions: the folders under its prefix.</summary>
    private async Task<List<string>> PartitionsAsync(CancellationToken cancellationToken)
    {
        var found = new List<string>();
        await foreach (var item in container.GetBlobsByHierarchyAsync(new GetBlobsByHierarchyOptions { Prefix = path.Prefix, Delimiter = "/" }, cancellationToken).ConfigureAwait(false))
        {
            if (item.IsPrefix)
            {
                found.Add(item.Prefix[path.Prefix.Length..].TrimEnd('/'));
            }
        }

        return found;
    }

    /// <summary>The hub paths (<c>NAMESPACE/HUB</c>) a Capture container holds.</summary>
    public static async Task<List<CapturePath>> PathsAsync(BlobContainerClient container, CancellationToken cancellationToken)
    {
        var paths = new List<CapturePath>();
        await foreach (var ns in container.GetBlobsByHierarchyAsync(new GetBlobsByHierarchyOptions { Delimiter = "/" }, cancellationToken).ConfigureAwait(false))
        {
            if (!ns.IsPrefix)
            {
                continue;
            }

            await foreach (var hub in container.GetBlobsByHierarchyAsync(new GetBlobsByHierarchyOptions { Prefix = ns.Prefix, Delimiter = "/" }, cancellationToken).ConfigureAwait(false))
            {
                if (hub.IsPrefix && CapturePath.Parse(hub.Prefix) is { } p)
                {
                    paths.Add(p);
                }
            }
        }

        return paths;
    }
}
