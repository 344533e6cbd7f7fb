using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Protocol;

namespace DarkShip.Functions.Apis;

internal static class ShadowScoreFunction
{
    /// <summary>
    /// <c>POST /ShadowScore</c>: a batch of mirrored predictions from the <c>mirror</c> hub. It reads
    /// the batch exactly as the host sends it; scoring shadow models on it arrives with the registry.
    /// </summary>
    public static IEndpointRouteBuilder MapShadowScoreFunction(this IEndpointRouteBuilder app)
    {
        var trigger = (EventHubTrigger)FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.ShadowScore).Trigger;
        app.MapInvocation(FunctionCatalog.ShadowScore, (request, _, _) =>
        {
            var batch = EventHubBatch.Read(request, trigger.BindingName);
            var range = batch.Events.Count == 0 ? "no events" : $"sequence {batch.Events[0].SequenceNumber}..{batch.Events[^1].SequenceNumber}";
            return Task.FromResult(new InvocationResponse
            {
                Logs = [$"ShadowScore: {batch.Events.Count} events from partition {batch.PartitionId ?? "?"} ({range}); no shadow models to score"],
            });
        });
        return app;
    }
}
