namespace DarkShip.Serving.Predictions;

/// <summary>How the serving path behaves; bound from the <c>Serving</c> configuration section (app settings <c>Serving__…</c>).</summary>
public sealed class ServingOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Serving";

    /// <summary>Time a request may spend reading features before it scores on defaults. Default 50 ms.</summary>
    public int FeatureBudgetMilliseconds { get; set; } = 50;

    /// <summary>Salt of the arm and shadow-sample hash; changing it reshuffles every assignment. Default <c>darkship</c>.</summary>
    public string AssignmentSalt { get; set; } = "darkship";

    /// <summary>How often the registry's revision is polled. Default 10 s.</summary>
    public int ModelRefreshSeconds { get; set; } = 10;

    /// <summary>How often the whole registry is read even when its revision did not move: a backstop, so a change that somehow did not move the revision is served within this time. Default 300 s.</summary>
    public int ModelFullReloadSeconds { get; set; } = 300;

    /// <summary>How long a request, the readiness check (<c>GET /</c>) or an invocation (ShadowScore, DriftMonitor) waits for the first registry read after start-up before it answers 503 or fails. Default 5 s.</summary>
    public int ModelLoadWaitSeconds { get; set; } = 5;

    /// <summary>Most (group, entity) rows the feature TTL cache holds. Default 100,000.</summary>
    public int FeatureCacheEntries { get; set; } = 100_000;

    /// <summary>The model load wait as a time span.</summary>
    public TimeSpan ModelLoadWait => TimeSpan.FromSeconds(ModelLoadWaitSeconds);

    /// <summary>The feature budget as a time span.</summary>
    public TimeSpan FeatureBudget => TimeSpan.FromMilliseconds(FeatureBudgetMilliseconds);
}
