namespace DarkShip.Serving.Monitoring;

/// <summary>How far a distribution moved: ordered, so the worst of several is their maximum.</summary>
public enum DriftStatus
{
    /// <summary>Too few samples to judge.</summary>
    Insufficient,

    /// <summary>Within the warning thresholds.</summary>
    Ok,

    /// <summary>Above a warning threshold.</summary>
    Warn,

    /// <summary>Above an alert threshold: telemetry alerts fire, and a guardrail may roll back.</summary>
    Alert,
}

/// <summary>
/// One comparison of one subject (a feature, the prediction, a feature's missing or stale rate) in the
/// recent window against a reference (the training baseline, or the previous window). Statistics that
/// do not apply are NaN.
/// </summary>
/// <param name="Subject">The feature's name, or <c>prediction</c>.</param>
/// <param name="Measure"><c>distribution</c>, <c>missingRate</c> or <c>staleRate</c>.</param>
/// <param name="Reference"><c>baseline</c> or <c>previous</c>.</param>
/// <param name="Kind"><c>numeric</c> or <c>categorical</c>.</param>
/// <param name="Samples">Values in the recent window.</param>
/// <param name="ReferenceSamples">Values in the reference.</param>
/// <param name="Psi">Population stability index.</param>
/// <param name="JensenShannon">Jensen–Shannon distance (base 2).</param>
/// <param name="Ks">Kolmogorov–Smirnov D (numeric).</param>
/// <param name="KsPValue">Its p-value.</param>
/// <param name="Wasserstein">Wasserstein distance in reference standard deviations (numeric).</param>
/// <param name="ChiSquare">Chi-square statistic (categorical).</param>
/// <param name="ChiSquarePValue">Its p-value.</param>
/// <param name="Value">For a rate: the recent window's.</param>
/// <param name="ReferenceValue">For a rate: the reference's.</param>
/// <param name="Status">The verdict.</param>
/// <param name="Reason">Which statistic decided it, and how.</param>
public sealed record DriftFinding(
    string Subject,
    string Measure,
    string Reference,
    string Kind,
    long Samples,
    long ReferenceSamples,
    double Psi,
    double JensenShannon,
    double Ks,
    double KsPValue,
    double Wasserstein,
    double ChiSquare,
    double ChiSquarePValue,
    double Value,
    double ReferenceValue,
    DriftStatus Status,
    string Reason);

/// <summary>One DriftMonitor run's findings for one model version.</summary>
/// <param name="Model">The model.</param>
/// <param name="Version">The version.</param>
/// <param name="Stage">Its stage when computed.</param>
/// <param name="ComputedAt">When.</param>
/// <param name="WindowStart">The recent window's start (inclusive).</param>
/// <param name="WindowEnd">Its end (exclusive); the previous window is as long and ends at <paramref name="WindowStart"/>.</param>
/// <param name="Samples">Scorings in the recent window.</param>
/// <param name="PreviousSamples">Scorings in the previous window.</param>
/// <param name="Findings">Every comparison.</param>
public sealed record DriftReport(
    string Model,
    string Version,
    string Stage,
    DateTimeOffset ComputedAt,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    long Samples,
    long PreviousSamples,
    IReadOnlyList<DriftFinding> Findings)
{
    /// <summary>The worst finding's status (<see cref="DriftStatus.Insufficient"/> when there are none).</summary>
    public DriftStatus Status => Findings.Count == 0 ? DriftStatus.Insufficient : Findings.Max(f => f.Status);

    /// <summary>The findings at alert level.</summary>
    public IEnumerable<DriftFinding> Alerts => Findings.Where(f => f.Status == DriftStatus.Alert);
}

/// <summary>Where drift reports are kept (<c>Drift</c> table): every run's, and the latest per version.</summary>
public interface IDriftStore
{
    /// <summary>Keeps <paramref name="report"/> and makes it its version's latest.</summary>
    Task SaveAsync(DriftReport report, CancellationToken cancellationToken = default);

    /// <summary>The latest report of each version of <paramref name="model"/> (or of the one <paramref name="version"/>).</summary>
    Task<IReadOnlyList<DriftReport>> LatestAsync(string model, string? version = null, CancellationToken cancellationToken = default);
}

/// <summary>What a <see cref="DriftFinding"/> measures (its <see cref="DriftFinding.Measure"/>); stored and queried by these names.</summary>
public static class DriftMeasures
{
    /// <summary>The distribution of a feature's values or of the predictions.</summary>
    public const string Distribution = "distribution";

    /// <summary>The share of inputs that were missing (no value, no row, unreadable).</summary>
    public const string MissingRate = "missingRate";

    /// <summary>The share of inputs older than the feature's max age.</summary>
    public const string StaleRate = "staleRate";
}
