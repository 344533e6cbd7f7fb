using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Protocol;

namespace DarkShip.Functions.Apis;

internal static class TimerFunctions
{
    /// <summary><c>POST /DriftMonitor</c> and <c>POST /PromoteModels</c>: the timer-triggered functions.</summary>
    public static IEndpointRouteBuilder MapTimerFunctions(this IEndpointRouteBuilder app)
    {
        foreach (var function in FunctionCatalog.All.Where(f => f.Trigger is TimerTrigger))
        {
            app.MapInvocation(function.Name, (request, services, _) =>
            {
                var timer = TimerInvocation.Read(request, function.Trigger.BindingName);
                var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
                return Task.FromResult(new InvocationResponse
                {
                    Logs = [$"{function.Name} ran at {now:O} (past due: {timer.IsPastDue}, next: {timer.Next:O}); no model versions to process"],
                });
            });
        }

        return app;
    }
}
