using System.Globalization;
using Avro;
using Avro.File;
using Avro.Generic;

namespace DarkShip.Storage.Capture;

/// <summary>One event as Event Hubs Capture stores it.</summary>
/// <param name="SequenceNumber">Its sequence number in the partition.</param>
/// <param name="Offset">Its offset in the partition (text, as Capture writes it).</param>
/// <param name="EnqueuedTime">When the hub received it.</param>
/// <param name="Body">The event body.</param>
/// <param name="PartitionKey">The key the producer sent, if any (a system property).</param>
public sealed record CapturedEvent(long SequenceNumber, string Offset, DateTimeOffset EnqueuedTime, byte[] Body, string? PartitionKey = null);

/// <summary>What reading one Capture file came to.</summary>
/// <param name="Events">Events read.</param>
/// <param name="UnreadableBlocks">Blocks that could not be decoded (skipped to the next sync marker); -1 when the file itself could not be opened.</param>
public sealed record CaptureFileRead(int Events, int UnreadableBlocks);

/// <summary>
/// Event Hubs Capture's file format: an Avro object container file of <c>EventData</c> records —
/// <c>SequenceNumber</c> (long), <c>Offset</c> (string), <c>EnqueuedTimeUtc</c> (string, e.g.
/// <c>11/30/2026 10:15:02 AM</c>), <c>SystemProperties</c> and <c>Properties</c> (maps of long, double,
/// string or bytes) and <c>Body</c> (bytes or null). Written and read with Apache.Avro's generic records.
/// </summary>
public static class CaptureFile
{
    /// <summary>The schema Capture writes.</summary>
    public const string SchemaJson = """
        {"type":"record","name":"EventData","namespace":"Microsoft.ServiceBus.Messaging","fields":[
          {"name":"SequenceNumber","type":"long"},
          {"name":"Offset","type":"string"},
          {"name":"EnqueuedTimeUtc","type":"string"},
          {"name":"SystemProperties","type":{"type":"map","values":["long","double","string","bytes"]}},
          {"name":"Properties","type":{"type":"map","values":["long","double","string","bytes","null"]}},
          {"name":"Body","type":["null","bytes"]}]}
        """;

    private static readonly RecordSchema Schema = (RecordSchema)Avro.Schema.Parse(SchemaJson);

    /// <summary>Capture's text form of an enqueue time (US month/day order, 12-hour clock, UTC).</summary>
    public static string EnqueuedTimeText(DateTimeOffset at) => at.UtcDateTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture);

    /// <summary>Reads an enqueue time as Capture writes it (or in ISO 8601), as UTC.</summary>
    public static DateTimeOffset ParseEnqueuedTime(string text) =>
        DateTimeOffset.TryParseExact(text, ["M/d/yyyy h:mm:ss tt", "M/d/yyyy h:mm:ss.FFFFFFF tt"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>Writes <paramref name="events"/> to <paramref name="output"/> as one Capture file (deflate blocks, as Capture's Avro encoding).</summary>
    public static void Write(Stream output, IEnumerable<CapturedEvent> events)
    {
        using var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(Schema), output, Codec.CreateCodec(Codec.Type.Deflate), leaveOpen: true);
        foreach (var e in events)
        {
            var record = new GenericRecord(Schema);
            record.Add("SequenceNumber", e.SequenceNumber);
            record.Add("Offset", e.Offset);
            record.Add("EnqueuedTimeUtc", EnqueuedTimeText(e.EnqueuedTime));
            var system = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["x-opt-sequence-number"] = e.SequenceNumber,
                ["x-opt-offset"] = e.Offset,
                ["x-opt-enqueued-time"] = EnqueuedTimeText(e.EnqueuedTime),
            };
            if (e.PartitionKey is not null)
            {
                system["x-opt-partition-key"] = e.PartitionKey;
            }

            record.Add("SystemProperties", system);
            record.Add("Properties", new Dictionary<string, object>(StringComparer.Ordinal));
            record.Add("Body", e.Body);
            writer.Append(record);
        }

        writer.Flush();
    }

    /// <summary>
    /// Reads every event of a Capture file from <paramref name="input"/> into <paramref name="onEvent"/>. A block that
    /// cannot be decoded is counted and skipped to the next sync marker; a file whose header cannot be read counts as
    /// <see cref="CaptureFileRead.UnreadableBlocks"/> = -1. Never throws for what the file holds.
    /// </summary>
    public static CaptureFileRead Read(Stream input, Action<CapturedEvent> onEvent)
    {
        IFileReader<GenericRecord> reader;
        try
        {
            reader = DataFileReader<GenericRecord>.OpenReader(input, Schema, leaveOpen: true);
        }
        catch (Exception e) when (e is AvroException or IOException or InvalidDataException or ArgumentException or InvalidOperationException)
        {
            return new CaptureFileRead(0, -1);
        }

        var events = 0;
        var unreadable = 0;
        using (reader)
        {
            while (true)
            {
                GenericRecord record;
                try
                {
                    if (!reader.HasNext())
                    {
                        break;
                    }

                    record = reader.Next();
                }
                catch (Exception e) when (e is AvroException or IOException or InvalidDataException or ArgumentException or InvalidOperationException or InvalidCastException or OverflowException)
                {
                    unreadable++;
                    if (!SkipBlock(reader))
                    {
                        break;
                    }

                    continue;
                }

                if (ToEvent(record) is { } captured)
                {
                    events++;
                    onEvent(captured);
                }
                else
                {
                    unreadable++; // a record of the right schema without the fields Capture always writes
                }
            }
        }

        return new CaptureFileRead(events, unreadable);
    }

    /// <summary>Moves past the block being read to the next sync marker; false when there is none.</summary>
    private static bool SkipBlock(IFileReader<GenericRecord> reader)
    {
        try
        {
            var from = reader.PreviousSync() + 1;
            reader.Sync(from);
            return reader.Tell() > from;
        }
        catch (Exception e) when (e is AvroException or IOException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static CapturedEvent? ToEvent(GenericRecord record)
    {
        if (!record.TryGetValue("SequenceNumber", out var sequence) || sequence is not long number
            || !record.TryGetValue("EnqueuedTimeUtc", out var enqueued) || enqueued is not string enqueuedText
            || !record.TryGetValue("Body", out var body))
        {
            return null;
        }

        DateTimeOffset at;
        try
        {
            at = ParseEnqueuedTime(enqueuedText);
        }
        catch (FormatException)
        {
            return null;
        }

        string? key = null;
        if (record.TryGetValue("SystemProperties", out var system) && system is IDictionary<string, object> properties
            && properties.TryGetValue("x-opt-partition-key", out var k))
        {
            key = k as string;
        }

        return new CapturedEvent(number, record.TryGetValue("Offset", out var offset) ? offset as string ?? "" : "", at, body as byte[] ?? [], key);
    }
}
