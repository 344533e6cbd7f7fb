using System.Text.Json;

namespace DarkShip.Functions.Protocol;

/// <summary>A timerTrigger invocation: whether it is late, and the schedule's last and next occurrences.</summary>
internal sealed record TimerInvocation(bool IsPastDue, DateTimeOffset? Last, DateTimeOffset? Next)
{
    public static TimerInvocation Read(InvocationRequest request, string bindingName)
    {
        var timer = InvocationRequest.Unwrap(request.Binding(bindingName));
        if (timer.ValueKind != JsonValueKind.Object)
        {
            throw new InvocationFormatException($"'{bindingName}' must be a timer object, not {timer.ValueKind}");
        }

        var status = InvocationRequest.Unwrap(InvocationRequest.Property(timer, "ScheduleStatus"));
        var pastDue = InvocationRequest.Property(timer, "IsPastDue");
        return new TimerInvocation(
            pastDue.ValueKind == JsonValueKind.True,
            InvocationRequest.Instant(InvocationRequest.Property(status, "Last")),
            InvocationRequest.Instant(InvocationRequest.Property(status, "Next")));
    }

}
