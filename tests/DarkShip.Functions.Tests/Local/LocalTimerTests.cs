using DarkShip.Functions.Local;
using NCrontab;

namespace DarkShip.Functions.Tests.Local;

public sealed class LocalTimerTests
{
    [Theory]
    [InlineData("0 */5 * * * *", "2026-11-22T10:02:30Z", "2026-11-22T10:05:00Z")]
    [InlineData("30 0 * * * *", "2026-11-22T10:02:30Z", "2026-11-22T11:00:30Z")]
    [InlineData("0 0 9 * * 1-5", "2026-11-21T10:00:00Z", "2026-11-23T09:00:00Z")] // Saturday → Monday 09:00
    [InlineData("*/10 * * * *", "2026-11-22T10:02:30Z", "2026-11-22T10:10:00Z")] // five fields: minutes first
    public void NextAfter_FollowsTheHostsNcrontabDialect(string expression, string from, string expected)
    {
        var next = NextOccurrence(expression, DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Theory]
    [InlineData("every five minutes")]
    [InlineData("0 */5 * * *  * *")]
    [InlineData("61 * * * * *")]
    public void Parse_InvalidExpression_Throws(string expression)
    {
        Assert.Throws<CrontabException>(() => LocalTimer.Parse(expression));
    }

    private static DateTimeOffset NextOccurrence(string expression, DateTimeOffset from)
    {
        var schedule = LocalTimer.Parse(expression);
        return new DateTimeOffset(DateTime.SpecifyKind(schedule.GetNextOccurrence(from.UtcDateTime), DateTimeKind.Utc));
    }
}
