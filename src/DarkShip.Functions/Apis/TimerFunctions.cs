using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Protocol;
using DarkShip.Serving.Ladder;

namespace DarkShip.Functions.Apis;

internal static class TimerFunctions
{
    /// <summary><c>POST /PromoteModels</c> (the ladder's rules, see <see cref="ModelPromoter"/>) and <c>POST /DriftMonitor</c>.</summary>
    public static IEndpointRouteBuilder MapTimerFunctions(this IEndpointRouteBuilder app)
    {
        var promote = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.PromoteModels);
        app.MapInvocation(promote.Name, async (request, services, cancellationToken) =>
        {
            var timer = TimerInvocation.Read(request, promote.Trigger.BindingName);
            var decisions = await services.GetRequiredService<ModelPromoter>().RunAsync(cancellationToken);
            var moved = decisions.Count(d => d.Outcome == "changed");
            return new InvocationResponse
            {
                Logs = [
                    $"PromoteModels (past due: {timer.IsPastDue}): {moved} transitions, {decisions.Count - moved} holds",
                    .. decisions.Select(d => $"{d.Model} {d.Version}: {d.Action} {d.Outcome}: {d.Reason}"),
                ],
            };
        });

        var drift = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.DriftMonitor);
        app.MapInvocation(drift.Name, (request, services, _) =>
        {
            var timer = TimerInvocation.Read(request, drift.Trigger.BindingName);
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            return Task.FromResult(new InvocationResponse
            {
                Logs = [$"DriftMonitor ran at {now:O} (past due: {timer.IsPastDue}, next: {timer.Next:O}); drift is computed by the monitoring issue"],
            });
        });
        return app;
    }
}
