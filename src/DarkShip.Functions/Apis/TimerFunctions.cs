using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Protocol;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Functions.Apis;

internal static class TimerFunctions
{
    /// <summary><c>POST /PromoteModels</c> (the ladder's rules, see <see cref="ModelPromoter"/>), <c>POST /DriftMonitor</c> (see <see cref="DriftMonitor"/>) and <c>POST /JoinOutcomes</c> (see <see cref="OutcomeService.RejoinAsync"/>).</summary>
    public static IEndpointRouteBuilder MapTimerFunctions(this IEndpointRouteBuilder app)
    {
        var promote = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.PromoteModels);
        app.MapInvocation(promote.Name, async (request, services, cancellationToken) =>
        {
            var timer = TimerInvocation.Read(request, promote.Trigger.BindingName);
            var decisions = await services.GetRequiredService<ModelPromoter>().RunAsync(cancellationToken);
            var moved = decisions.Count(d => d.Outcome == PromotionOutcome.Changed);
            return new InvocationResponse
            {
                Logs = [
                    $"PromoteModels (past due: {timer.IsPastDue}): {moved} transitions, {decisions.Count - moved} holds",
                    .. decisions.Select(d => $"{d.Model} {d.Version}: {d.Action} {d.Outcome}: {d.Reason}"),
                ],
            };
        });

        var drift = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.DriftMonitor);
        app.MapInvocation(drift.Name, async (request, services, cancellationToken) =>
        {
            var timer = TimerInvocation.Read(request, drift.Trigger.BindingName);
            var reports = await services.GetRequiredService<DriftMonitor>().RunAsync(cancellationToken);
            return new InvocationResponse
            {
                Logs = [
                    $"DriftMonitor (past due: {timer.IsPastDue}): {reports.Count} versions, {reports.Count(r => r.Status == DriftStatus.Alert)} in alert",
                    .. reports.Select(r => $"{r.Model} {r.Version} ({r.Stage}): {r.Status} over {r.Samples} samples" +
                        string.Concat(r.Alerts.Select(a => $"; {a.Subject} {a.Measure} vs {a.Reference}: {a.Reason}"))),
                ],
            };
        });

        var join = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.JoinOutcomes);
        app.MapInvocation(join.Name, async (request, services, cancellationToken) =>
        {
            var timer = TimerInvocation.Read(request, join.Trigger.BindingName);
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            var (examined, joined, unmatched) = await services.GetRequiredService<OutcomeService>().RejoinAsync(now - OutcomeService.RejoinLookback, cancellationToken);
            return new InvocationResponse
            {
                Logs = [$"JoinOutcomes (past due: {timer.IsPastDue}): {examined} outcomes of predictions since {now - OutcomeService.RejoinLookback:O}; {joined} newly joined or extended, {unmatched} still unmatched"],
            };
        });
        return app;
    }
}
