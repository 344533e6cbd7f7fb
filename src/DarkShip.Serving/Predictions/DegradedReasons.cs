using DarkShip.Serving.Models;

namespace DarkShip.Serving.Predictions;

/// <summary>
/// The words a prediction's <c>degraded</c> list is made of (<c>consumer:timedOut</c>, <c>amount:missing</c>),
/// written by the live path, the shadow path and point-in-time reads, and counted by drift: one place
/// spells them.
/// </summary>
public static class DegradedReasons
{
    /// <summary>A feature that fell back to its default: <c>{feature}:{missing|stale|invalid}</c>.</summary>
    public static string Feature(string feature, FeatureFallback fallback) => $"{feature}:{Word(fallback)}";

    /// <summary>A feature group whose row is not there to read: <c>{group}:{status}</c> (a <see cref="GroupStatus"/>).</summary>
    public static string Group(string group, string status) => $"{group}:{status}";

    /// <summary>A fallback's word.</summary>
    public static string Word(FeatureFallback fallback) => fallback switch
    {
        FeatureFallback.Missing => "missing",
        FeatureFallback.Stale => "stale",
        FeatureFallback.Invalid => "invalid",
        _ => "none",
    };
}

/// <summary>How a feature group's read went, as the mirror and <c>degraded</c> spell it.</summary>
public static class GroupStatus
{
    /// <summary>The entity's row was read.</summary>
    public const string Found = "found";

    /// <summary>The entity has no row in the group.</summary>
    public const string NotFound = "notFound";

    /// <summary>The request gave no key for the group.</summary>
    public const string NoKey = "noKey";

    /// <summary>The read did not finish within the budget.</summary>
    public const string TimedOut = "timedOut";

    /// <summary>The read failed.</summary>
    public const string Failed = "failed";

    /// <summary>Every status under which the group gave no row: what a missing rate counts.</summary>
    public static readonly IReadOnlyList<string> WithoutARow = [NotFound, NoKey, TimedOut, Failed];

    /// <summary>The status of a read.</summary>
    public static string Of(GroupReadStatus status) => status switch
    {
        GroupReadStatus.Found => Found,
        GroupReadStatus.NotFound => NotFound,
        GroupReadStatus.NoKey => NoKey,
        GroupReadStatus.TimedOut => TimedOut,
        _ => Failed,
    };

    /// <summary>Whether the store answered (a row, or the fact that there is none), as opposed to a read that did not complete.</summary>
    public static bool IsAnswer(string? status) => status is Found or NotFound or NoKey;
}
