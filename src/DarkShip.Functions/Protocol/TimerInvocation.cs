using System.Globalization;
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
            Time(InvocationRequest.Property(status, "Last")),
            Time(InvocationRequest.Property(status, "Next")));
    }

    private static DateTimeOffset? Time(JsonElement e) =>
        e.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
