using System.Text.Json;
using DarkShip.Functions.Protocol;

namespace DarkShip.Functions.Tests.Protocol;

public sealed class EventHubBatchTests
{
    // The shape the Functions host sends a custom handler for an eventHubTrigger with
    // cardinality many and dataType string: every array is a JSON document inside a string.
    private const string HostPayload = """
        {
          "Data": { "events": "[\"{\\\"predictionId\\\":\\\"a\\\"}\",\"{\\\"predictionId\\\":\\\"b\\\"}\"]" },
          "Metadata": {
            "PartitionContext": "{\"ConsumerGroup\":\"shadow\",\"EventHubName\":\"mirror\",\"FullyQualifiedNamespace\":\"ns.servicebus.windows.net\",\"PartitionId\":\"3\"}",
            "SequenceNumberArray": "[41,42]",
            "OffsetArray": "[\"4096\",\"4200\"]",
            "PartitionKeyArray": "[\"c1\",null]",
            "EnqueuedTimeUtcArray": "[\"2026-11-22T10:00:00Z\",\"2026-11-22T10:00:01Z\"]",
            "PropertiesArray": "[{\"schema\":\"mirror/1\"},{}]",
            "SystemPropertiesArray": "[{\"x-opt-sequence-number\":41},{\"x-opt-sequence-number\":42}]",
            "sys": { "MethodName": "ShadowScore", "UtcNow": "2026-11-22T10:00:02Z", "RandGuid": "7f0e2a8b-0000-0000-0000-000000000000" }
          }
        }
        """;

    [Fact]
    public void Read_HostPayloadWithArraysAsStrings_ZipsEventsWithTheirMetadata()
    {
        var batch = EventHubBatch.Read(Parse(HostPayload), "events");

        Assert.Equal("3", batch.PartitionId);
        Assert.Equal(2, batch.Events.Count);
        Assert.Equal("{\"predictionId\":\"a\"}", batch.Events[0].Body);
        Assert.Equal(41, batch.Events[0].SequenceNumber);
        Assert.Equal("4096", batch.Events[0].Offset);
        Assert.Equal("c1", batch.Events[0].PartitionKey);
        Assert.Null(batch.Events[1].PartitionKey);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 0, 1, TimeSpan.Zero), batch.Events[1].EnqueuedTime);
        Assert.Equal("mirror/1", batch.Events[0].Properties.GetProperty("schema").GetString());
    }

    [Fact]
    public void Read_PlainJsonArraysAndObjectBodies_AreAcceptedToo()
    {
        const string plain = """
            {
              "Data": { "events": [ {"predictionId":"a"}, "raw text" ] },
              "Metadata": {
                "PartitionContext": { "PartitionId": "0" },
                "SystemPropertiesArray": [ {"SequenceNumber": 7, "Offset": "10", "PartitionKey": "k", "EnqueuedTimeUtc": "2026-11-22T10:00:00Z"},
                                           {"x-opt-sequence-number": 8} ]
              }
            }
            """;

        var batch = EventHubBatch.Read(Parse(plain), "events");

        Assert.Equal("0", batch.PartitionId);
        Assert.Equal("{\"predictionId\":\"a\"}", batch.Events[0].Body);
        Assert.Equal("raw text", batch.Events[1].Body);
        Assert.Equal([7L, 8L], batch.Events.Select(e => e.SequenceNumber));
        Assert.Equal("k", batch.Events[0].PartitionKey);
        Assert.Equal("10", batch.Events[0].Offset);
    }

    [Fact]
    public void Read_NoSequenceNumbers_IsAFormatError()
    {
        var request = Parse("""{"Data": {"events": "[\"x\"]"}, "Metadata": {}}""");

        var e = Assert.Throws<InvocationFormatException>(() => EventHubBatch.Read(request, "events"));

        Assert.Contains("sequence number", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SingleEventInsteadOfBatch_IsAFormatError()
    {
        var request = Parse("""{"Data": {"events": "just one"}, "Metadata": {}}""");

        Assert.Throws<InvocationFormatException>(() => EventHubBatch.Read(request, "events"));
    }

    [Fact]
    public void Read_MissingBinding_NamesIt()
    {
        var e = Assert.Throws<InvocationFormatException>(() => EventHubBatch.Read(Parse("""{"Data": {}, "Metadata": {}}"""), "events"));

        Assert.Contains("'events'", e.Message, StringComparison.Ordinal);
    }

    private static InvocationRequest Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return InvocationRequest.Parse(doc.RootElement.Clone());
    }
}
