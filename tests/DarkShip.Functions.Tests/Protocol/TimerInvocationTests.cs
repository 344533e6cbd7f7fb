using System.Text.Json;
using DarkShip.Functions.Protocol;

namespace DarkShip.Functions.Tests.Protocol;

public sealed class TimerInvocationTests
{
    [Theory]
    [InlineData("""{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-22T09:55:00Z","Next":"2026-11-22T10:05:00Z","LastUpdated":"2026-11-22T10:00:00Z"},"IsPastDue":true}},"Metadata":{"sys":{"MethodName":"PromoteModels"}}}""")]
    [InlineData("""{"Data":{"timer":"{\"Schedule\":{\"AdjustForDST\":true},\"ScheduleStatus\":{\"Last\":\"2026-11-22T09:55:00Z\",\"Next\":\"2026-11-22T10:05:00Z\"},\"IsPastDue\":true}"},"Metadata":{}}""")]
    public void Read_HostTimerPayload_ObjectOrString_GivesStatus(string json)
    {
        using var doc = JsonDocument.Parse(json);

        var timer = TimerInvocation.Read(InvocationRequest.Parse(doc.RootElement.Clone()), "timer");

        Assert.True(timer.IsPastDue);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 5, 0, TimeSpan.Zero), timer.Next);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 9, 55, 0, TimeSpan.Zero), timer.Last);
    }
}
