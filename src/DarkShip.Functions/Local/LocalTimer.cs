using System.Text.Json.Nodes;
using DarkShip.Functions.Definitions;
using NCrontab;

namespace DarkShip.Functions.Local;

/// <summary>
/// A timerTrigger stand-in: NCRONTAB schedules in the host's own dialect (NCrontab.Signed; six
/// fields with seconds first, or five without), in UTC. Like the host, a timer never overlaps
/// itself: a run that overruns pushes the next one back and is reported past due.
/// </summary>
internal sealed partial class LocalTimer(FunctionDefinition function, CrontabSchedule schedule, FunctionInvoker invoker, TimeProvider time, ILogger<LocalTimer> logger)
{
    /// <summary>How late an occurrence may fire before the host calls it past due.</summary>
    private static readonly TimeSpan PastDueAfter = TimeSpan.FromSeconds(5);

    public string FunctionName => function.Name;

    /// <summary>Parses an NCRONTAB expression as the host does: six fields include seconds, five do not.</summary>
    /// <exception cref="CrontabException">The expression is not valid NCRONTAB.</exception>
    public static CrontabSchedule Parse(string expression)
    {
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CrontabSchedule.Parse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 });
    }

    public DateTimeOffset NextAfter(DateTimeOffset instant) =>
        new(DateTime.SpecifyKind(schedule.GetNextOccurrence(instant.UtcDateTime), DateTimeKind.Utc));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? last = null;
        var next = NextAfter(time.GetUtcNow());
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = next - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken);
                }

                var now = time.GetUtcNow();
                var following = NextAfter(now);
                await InvokeAsync(last, following, isPastDue: now - next > PastDueAfter, cancellationToken);
                last = next;
                next = following;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One invocation with the host's TimerInfo payload.</summary>
    public Task<InvocationResult> InvokeAsync(DateTimeOffset? last, DateTimeOffset next, bool isPastDue, CancellationToken cancellationToken)
    {
        LogFiring(logger, function.Name, isPastDue);
        var timer = new JsonObject
        {
            ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
            ["ScheduleStatus"] = new JsonObject
            {
                ["Last"] = (last ?? DateTimeOffset.MinValue).ToString("O"),
                ["Next"] = next.ToString("O"),
                ["LastUpdated"] = time.GetUtcNow().ToString("O"),
            },
            ["IsPastDue"] = isPastDue,
        };
        return invoker.InvokeAsync(function.Name, new JsonObject { [function.Trigger.BindingName] = timer.ToJsonString() }, [], cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Executing '{Function}' (Reason='Timer fired', past due: {PastDue})")]
    private static partial void LogFiring(ILogger logger, string function, bool pastDue);
}
