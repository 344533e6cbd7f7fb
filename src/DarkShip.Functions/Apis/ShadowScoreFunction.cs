using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Protocol;
using DarkShip.Serving.Shadow;

namespace DarkShip.Functions.Apis;

internal static class ShadowScoreFunction
{
    /// <summary>
    /// <c>POST /ShadowScore</c>: a batch of mirrored predictions from one partition of the <c>mirror</c>
    /// hub, scored by every shadow model (see <see cref="ShadowScorer"/>). Unreadable events go to the
    /// dead letters and the batch succeeds; a storage failure fails it, so the host delivers it again.
    /// </summary>
    public static IEndpointRouteBuilder MapShadowScoreFunction(this IEndpointRouteBuilder app)
    {
        var trigger = (EventHubTrigger)FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.ShadowScore).Trigger;
        app.MapInvocation(FunctionCatalog.ShadowScore, async (request, services, cancellationToken) =>
        {
            var batch = EventHubBatch.Read(request, trigger.BindingName);
            var partition = batch.PartitionId ?? "?";
            var result = await services.GetRequiredService<ShadowScorer>().ScoreAsync(
                partition,
                [.. batch.Events.Select(e => new MirroredMessage(e.SequenceNumber, e.Body, e.EnqueuedTime))],
                cancellationToken);
            var range = batch.Events.Count == 0 ? "no events" : $"sequence {batch.Events[0].SequenceNumber}..{batch.Events[^1].SequenceNumber}";
            return new InvocationResponse
            {
                Logs = [$"ShadowScore: partition {partition} ({range}): {result.Events} events, {result.ShadowScored} shadow scores, {result.ShadowFailed} shadow failures, {result.DeadLettered} dead-lettered, {result.WindowsUpdated} windows updated"],
            };
        });
        return app;
    }
}
