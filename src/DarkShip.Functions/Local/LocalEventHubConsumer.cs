using System.Text.Json.Nodes;
using DarkShip.Functions.Definitions;

namespace DarkShip.Functions.Local;

/// <summary>How the local runner batches hub events, like host.json's <c>extensions.eventHubs</c>.</summary>
internal sealed record EventHubBatchOptions(int MaxEventBatchSize = 100);

/// <summary>
/// Delivers a <see cref="LocalEventHub"/>'s events to an eventHubTrigger function the way the host
/// does: one reader per partition, batches in order, the payload shape of <c>cardinality: many</c>
/// (arrays serialised as JSON strings), the function's retry policy on failure, and a checkpoint
/// only after the batch succeeded or its retries ran out.
/// </summary>
internal sealed partial class LocalEventHubConsumer(
    LocalEventHub hub,
    FunctionDefinition function,
    string consumerGroup,
    FunctionInvoker invoker,
    EventHubBatchOptions options,
    TimeProvider time,
    ILogger<LocalEventHubConsumer> logger)
{
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(hub.Partitions.Select(p => Task.Run(() => RunPartitionAsync(p, cancellationToken), cancellationToken)));

    private async Task RunPartitionAsync(LocalEventHub.Partition partition, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var batch = await partition.PeekAsync(options.MaxEventBatchSize, cancellationToken);
                await DeliverAsync(partition, batch, cancellationToken);
                partition.Checkpoint(batch[^1].SequenceNumber);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // shutting down: whatever was not checkpointed would be delivered again by a real host
        }
    }

    private async Task DeliverAsync(LocalEventHub.Partition partition, IReadOnlyList<StoredEvent> batch, CancellationToken cancellationToken)
    {
        var retry = function.Retry;
        for (var attempt = 0; ; attempt++)
        {
            var (data, metadata) = Payload(partition, batch);
            var result = await invoker.InvokeAsync(function.Name, data, metadata, cancellationToken);
            if (result.Succeeded)
            {
                return;
            }

            if (retry is null || attempt >= retry.MaxRetryCount)
            {
                LogGaveUp(logger, function.Name, batch.Count, partition.Id, batch[0].SequenceNumber, attempt + 1);
                return;
            }

            var delay = retry.DelayBefore(attempt + 1);
            LogRetry(logger, function.Name, attempt + 1, retry.MaxRetryCount, delay);
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    /// <summary>The host's payload for a batch: each array in Metadata is a JSON document in a string.</summary>
    internal (JsonObject Data, JsonObject Metadata) Payload(LocalEventHub.Partition partition, IReadOnlyList<StoredEvent> batch)
    {
        string Array(IEnumerable<JsonNode?> items) => new JsonArray([.. items]).ToJsonString();

        var data = new JsonObject { [function.Trigger.BindingName] = Array(batch.Select(e => (JsonNode?)JsonValue.Create(e.Body))) };
        var metadata = new JsonObject
        {
            ["PartitionContext"] = new JsonObject
            {
                ["ConsumerGroup"] = consumerGroup,
                ["EventHubName"] = hub.Name,
                ["FullyQualifiedNamespace"] = "local",
                ["PartitionId"] = partition.Id,
            }.ToJsonString(),
            ["SequenceNumberArray"] = Array(batch.Select(e => (JsonNode?)e.SequenceNumber)),
            ["OffsetArray"] = Array(batch.Select(e => (JsonNode?)e.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            ["PartitionKeyArray"] = Array(batch.Select(e => (JsonNode?)e.PartitionKey)),
            ["EnqueuedTimeUtcArray"] = Array(batch.Select(e => (JsonNode?)e.EnqueuedTime.ToString("O"))),
            ["PropertiesArray"] = Array(batch.Select(e => e.Properties.DeepClone())),
            ["SystemPropertiesArray"] = Array(batch.Select(e => (JsonNode?)new JsonObject
            {
                ["x-opt-sequence-number"] = e.SequenceNumber,
                ["x-opt-offset"] = e.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["x-opt-enqueued-time"] = e.EnqueuedTime.ToString("O"),
                ["x-opt-partition-key"] = e.PartitionKey,
                ["SequenceNumber"] = e.SequenceNumber,
                ["Offset"] = e.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PartitionKey"] = e.PartitionKey,
                ["EnqueuedTimeUtc"] = e.EnqueuedTime.ToString("O"),
            })),
        };
        return (data, metadata);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Function}: retry {Attempt} of {Max} in {Delay}")]
    private static partial void LogRetry(ILogger logger, string function, int attempt, int max, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function}: gave up on {Count} events of partition {Partition} from sequence {First} after {Attempts} attempts; checkpointing past them as the host does")]
    private static partial void LogGaveUp(ILogger logger, string function, int count, string partition, long first, int attempts);
}
