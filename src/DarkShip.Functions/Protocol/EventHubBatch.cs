using System.Globalization;
using System.Text.Json;

namespace DarkShip.Functions.Protocol;

/// <summary>One event of an eventHubTrigger batch, with the system properties the host passes.</summary>
internal sealed record EventHubEvent(
    string Body,
    long SequenceNumber,
    string? Offset,
    string? PartitionKey,
    DateTimeOffset? EnqueuedTime,
    JsonElement Properties);

/// <summary>
/// An eventHubTrigger invocation with <c>cardinality: many</c>: the events (from the trigger
/// binding in Data) zipped with the per-event arrays in Metadata. The host sends each array
/// either as JSON or as a JSON string holding it; both are read.
/// </summary>
internal sealed record EventHubBatch(string? PartitionId, IReadOnlyList<EventHubEvent> Events)
{
    public static EventHubBatch Read(InvocationRequest request, string bindingName)
    {
        var events = InvocationRequest.Unwrap(request.Binding(bindingName));
        if (events.ValueKind != JsonValueKind.Array)
        {
            throw new InvocationFormatException($"'{bindingName}' must be an array of events (cardinality many), not {events.ValueKind}");
        }

        var bodies = events.EnumerateArray().Select(Body).ToList();
        var system = request.Meta("SystemPropertiesArray");
        var sequence = request.Meta("SequenceNumberArray");
        var offsets = request.Meta("OffsetArray");
        var keys = request.Meta("PartitionKeyArray");
        var times = request.Meta("EnqueuedTimeUtcArray");
        var properties = request.Meta("PropertiesArray");

        var list = new List<EventHubEvent>(bodies.Count);
        for (var i = 0; i < bodies.Count; i++)
        {
            var sys = At(system, i);
            var seq = Long(At(sequence, i)) ?? Long(InvocationRequest.Property(sys, "SequenceNumber")) ?? Long(InvocationRequest.Property(sys, "x-opt-sequence-number"))
                ?? throw new InvocationFormatException($"event {i} has no sequence number in SequenceNumberArray or SystemPropertiesArray");
            list.Add(new EventHubEvent(
                bodies[i],
                seq,
                Text(At(offsets, i)) ?? Text(InvocationRequest.Property(sys, "Offset")) ?? Text(InvocationRequest.Property(sys, "x-opt-offset")),
                Text(At(keys, i)) ?? Text(InvocationRequest.Property(sys, "PartitionKey")) ?? Text(InvocationRequest.Property(sys, "x-opt-partition-key")),
                InvocationRequest.Instant(At(times, i)) ?? InvocationRequest.Instant(InvocationRequest.Property(sys, "EnqueuedTimeUtc")) ?? InvocationRequest.Instant(InvocationRequest.Property(sys, "x-opt-enqueued-time")),
                At(properties, i)));
        }

        var context = request.Meta("PartitionContext");
        return new EventHubBatch(Text(InvocationRequest.Property(context, "PartitionId")), list);
    }

    private static string Body(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();

    private static JsonElement At(JsonElement array, int i) =>
        array.ValueKind == JsonValueKind.Array && i < array.GetArrayLength() ? InvocationRequest.Unwrap(array[i]) : default;

    private static long? Long(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetInt64(),
        JsonValueKind.String when long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) => v,
        _ => null,
    };

    private static string? Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText(),
        _ => null,
    };

}
