using System.Collections.Concurrent;
using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Protocol;
using DarkShip.Serving.Shadow;
using DarkShip.Serving.Telemetry;

namespace DarkShip.Functions.Apis;

internal static partial class ShadowScoreFunction
{
    /// <summary>
    /// <c>POST /ShadowScore</c>: a batch of mirrored predictions from one partition of the <c>mirror</c>
    /// hub, scored by every shadow model (see <see cref="ShadowScorer"/>). Unreadable events go to the
    /// dead letters and the batch succeeds; a storage failure (or an instance that has not read the
    /// registry yet) fails it, so the host delivers it again, up to the function's retry policy. The host
    /// retries in the same instance, so the handler sees every attempt: when the last one fails, the
    /// events it will checkpoint past are counted (<c>darkship.shadow.lost</c>) and logged with their range.
    /// </summary>
    public static IEndpointRouteBuilder MapShadowScoreFunction(this IEndpointRouteBuilder app)
    {
        var function = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.ShadowScore);
        var trigger = (EventHubTrigger)function.Trigger;
        var attempts = new BatchAttempts(function.Retry?.MaxRetryCount ?? 0);
        app.MapInvocation(FunctionCatalog.ShadowScore, async (request, services, cancellationToken) =>
        {
            var batch = EventHubBatch.Read(request, trigger.BindingName);
            var partition = batch.PartitionId ?? "?";
            var range = batch.Events.Count == 0 ? "no events" : $"sequence {batch.Events[0].SequenceNumber}..{batch.Events[^1].SequenceNumber}";
            var first = batch.Events.Count == 0 ? -1 : batch.Events[0].SequenceNumber;
            var tag = new KeyValuePair<string, object?>("partition", partition);
            ShadowBatchResult result;
            try
            {
                result = await services.GetRequiredService<ShadowScorer>().ScoreAsync(
                    partition,
                    [.. batch.Events.Select(e => new MirroredMessage(e.SequenceNumber, e.Body, e.EnqueuedTime))],
                    cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                DarkShipTelemetry.ShadowBatches.Add(1, tag, new("outcome", "failed"));
                if (attempts.Failed(partition, first))
                {
                    DarkShipTelemetry.ShadowLost.Add(batch.Events.Count, tag);
                    LogLost(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ShadowScorer).FullName!), partition, range, batch.Events.Count, attempts.Max + 1, e.Message);
                }

                throw;
            }

            attempts.Succeeded(partition);
            DarkShipTelemetry.ShadowBatches.Add(1, tag, new("outcome", "succeeded"));
            return new InvocationResponse
            {
                Logs = [$"ShadowScore: partition {partition} ({range}): {result.Events} events, {result.ShadowScored} shadow scores, {result.ShadowFailed} shadow failures, {result.DeadLettered} dead-lettered, {result.WindowsUpdated} windows updated"],
            };
        });
        return app;
    }

    [LoggerMessage(EventId = 6110, EventName = "ShadowBatchLost", Level = LogLevel.Error,
        Message = "ShadowScore: partition {Partition} ({Range}): attempt {Attempts} failed, the host's last; it checkpoints past these {Count} events, which no shadow scored (Capture still holds them): {Reason}")]
    private static partial void LogLost(ILogger logger, string partition, string range, int count, int attempts, string reason);

    /// <summary>Consecutive failed attempts of the batch at the head of each partition (the host retries a batch in the instance that took it).</summary>
    internal sealed class BatchAttempts(int maxRetries)
    {
        private readonly ConcurrentDictionary<string, (long First, int Failures)> heads = new(StringComparer.Ordinal);

        /// <summary>The function's retries: a batch is tried once more than this.</summary>
        public int Max { get; } = maxRetries;

        /// <summary>Counts a failed attempt of the batch starting at <paramref name="first"/>; true when it was the last the host makes.</summary>
        public bool Failed(string partition, long first)
        {
            var now = heads.AddOrUpdate(partition, _ => (first, 1), (_, was) => was.First == first ? (first, was.Failures + 1) : (first, 1));
            if (now.Failures <= Max)
            {
                return false;
            }

            heads.TryRemove(partition, out _);
            return true;
        }

        /// <summary>The partition moved on.</summary>
        public void Succeeded(string partition) => heads.TryRemove(partition, out _);
    }
}
