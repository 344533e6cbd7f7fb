using System.Text;
using System.Text.Json;
using DarkShip.Serving.Mirror;
using DarkShip.Storage.Capture;

namespace DarkShip.Storage.Tests;

/// <summary>
/// Event Hubs Capture's Avro files: read as another implementation wrote them (Fixtures/capture, written by
/// python3-avro with generate_capture.py), written so that it reads them back, and a damaged block counted, not fatal.
/// </summary>
public sealed class CaptureFileTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "capture");

    [Theory]
    [InlineData("deflate.avro")]
    [InlineData("null-codec.avro")]
    public void Reads_every_event_python_avro_wrote_in_order_with_its_fields(string file)
    {
        var expected = Expected(file).SelectMany(b => b).ToList();
        var read = new List<CapturedEvent>();
        using var input = File.OpenRead(Path.Combine(Fixtures, file));

        var result = CaptureFile.Read(input, read.Add);

        Assert.Equal(new CaptureFileRead(expected.Count, 0), result);
        Assert.Equal(expected.Count, read.Count);
        for (var i = 0; i < read.Count; i++)
        {
            var e = expected[i];
            Assert.Equal(e.GetProperty("sequenceNumber").GetInt64(), read[i].SequenceNumber);
            Assert.Equal(e.GetProperty("offset").GetString(), read[i].Offset);
            Assert.Equal(e.GetProperty("enqueuedTime").GetDateTimeOffset(), read[i].EnqueuedTime);
            Assert.Equal(e.GetProperty("body").GetString() ?? "", Encoding.UTF8.GetString(read[i].Body));
            Assert.Equal(e.GetProperty("partitionKey").GetString(), read[i].PartitionKey);
        }
    }

    [Fact]
    public void The_fixture_bodies_are_mirror_events_of_schema_1_one_of_schema_2_and_two_that_are_none()
    {
        var read = new List<CapturedEvent>();
        using var input = File.OpenRead(Path.Combine(Fixtures, "deflate.avro"));
        CaptureFile.Read(input, read.Add);
        int events = 0, newer = 0, none = 0;
        foreach (var e in read)
        {
            try
            {
                var mirrored = MirrorEventJson.Deserialize(e.Body);
                Assert.Equal("fraud", mirrored.Model);
                events++;
            }
            catch (UnsupportedSchemaException x)
            {
                Assert.Equal(2, x.Schema);
                newer++;
            }
            catch (FormatException)
            {
                none++;
            }
        }

        Assert.Equal((9, 1, 2), (events, newer, none));
    }

    [Fact]
    public void A_damaged_block_is_counted_and_skipped_to_the_next_sync_marker_and_the_other_blocks_are_read()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Fixtures, "deflate.avro"));
        var blocks = Expected("deflate.avro");
        // The file's 16-byte sync marker ends its header and every block: damage the middle of the second block.
        var marker = bytes.AsSpan(HeaderEnd(bytes) - 16, 16).ToArray();
        var ends = SyncPositions(bytes, marker);
        Assert.Equal(blocks.Count + 1, ends.Count); // the header's marker, then one per block
        var middle = (ends[1] + ends[2]) / 2;
        for (var i = middle - 4; i < middle + 4; i++)
        {
            bytes[i] ^= 0x5A;
        }

        var read = new List<CapturedEvent>();
        var result = CaptureFile.Read(new MemoryStream(bytes), read.Add);

        Assert.Equal(1, result.UnreadableBlocks);
        Assert.Equal(blocks[0].Concat(blocks[2]).Select(e => e.GetProperty("sequenceNumber").GetInt64()), read.Select(e => e.SequenceNumber));
    }

    [Fact]
    public void A_file_that_is_not_avro_is_unreadable_as_a_whole_and_nothing_throws()
    {
        var read = new List<CapturedEvent>();

        var result = CaptureFile.Read(new MemoryStream("PAR1 this is not an Avro container"u8.ToArray()), read.Add);

        Assert.Equal(new CaptureFileRead(0, -1), result);
        Assert.Empty(read);
    }

    [Fact]
    public void What_it_writes_python_avro_reads_back_with_capture_times_in_captures_text_form()
    {
        var at = new DateTimeOffset(2026, 11, 30, 22, 5, 9, TimeSpan.Zero);
        CapturedEvent[] events = [new(7, "1024", at, "{\"a\":1}"u8.ToArray(), "c1"), new(8, "1031", at.AddSeconds(1), "{\"b\":2}"u8.ToArray())];
        var path = Path.Combine(Path.GetTempPath(), $"capture-{Guid.NewGuid():N}.avro");
        try
        {
            using (var output = File.Create(path))
            {
                CaptureFile.Write(output, events);
            }

            var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", """
                import json, sys, avro.datafile, avro.io
                with open(sys.argv[1], "rb") as f:
                    r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
                    print(json.dumps({"codec": r.get_meta("avro.codec").decode(), "schema": json.loads(r.get_meta("avro.schema"))["name"],
                        "events": [{"seq": e["SequenceNumber"], "offset": e["Offset"], "at": e["EnqueuedTimeUtc"], "body": e["Body"].decode(),
                                    "key": e["SystemProperties"].get("x-opt-partition-key")} for e in r]}))
                """, path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var stdout = python.StandardOutput.ReadToEnd();
            var stderr = python.StandardError.ReadToEnd();
            python.WaitForExit();
            Assert.True(python.ExitCode == 0, "python3-avro could not read the file (apt-get install python3-avro): " + stderr);

            using var doc = JsonDocument.Parse(stdout);
            Assert.Equal("deflate", doc.RootElement.GetProperty("codec").GetString());
            Assert.Equal("EventData", doc.RootElement.GetProperty("schema").GetString());
            var read = doc.RootElement.GetProperty("events").EnumerateArray().ToList();
            Assert.Equal(["11/30/2026 10:05:09 PM", "11/30/2026 10:05:10 PM"], read.Select(e => e.GetProperty("at").GetString()));
            Assert.Equal([7L, 8L], read.Select(e => e.GetProperty("seq").GetInt64()));
            Assert.Equal(["1024", "1031"], read.Select(e => e.GetProperty("offset").GetString()));
            Assert.Equal(["{\"a\":1}", "{\"b\":2}"], read.Select(e => e.GetProperty("body").GetString()));
            Assert.Equal(["c1", null], read.Select(e => e.GetProperty("key").GetString()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<List<JsonElement>> Expected(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "expected.json")));
        return [.. doc.RootElement.GetProperty(file).EnumerateArray().Select(b => b.EnumerateArray().Select(e => e.Clone()).ToList())];
    }

    /// <summary>Where the header ends: after the magic, the metadata map and the sync marker.</summary>
    private static int HeaderEnd(byte[] file)
    {
        var position = 4; // "Obj" 1
        while (true)
        {
            var count = ReadLong(file, ref position);
            if (count == 0)
            {
                break;
            }

            if (count < 0)
            {
                ReadLong(file, ref position); // the block's size in bytes
                count = -count;
            }

            for (var i = 0; i < count * 2; i++)
            {
                var length = (int)ReadLong(file, ref position); // key, then value: length-prefixed bytes
                position += length;
            }
        }

        return position + 16;
    }

    private static long ReadLong(byte[] file, ref int position)
    {
        ulong value = 0;
        var shift = 0;
        byte b;
        do
        {
            b = file[position++];
            value |= (ulong)(b & 0x7F) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0);
        return (long)(value >> 1) ^ -(long)(value & 1); // zig-zag
    }

    private static List<int> SyncPositions(byte[] file, byte[] marker)
    {
        var found = new List<int>();
        for (var i = file.AsSpan().IndexOf(marker); i >= 0;)
        {
            found.Add(i);
            var next = file.AsSpan(i + 16).IndexOf(marker);
            i = next < 0 ? -1 : i + 16 + next;
        }

        return found;
    }
}
