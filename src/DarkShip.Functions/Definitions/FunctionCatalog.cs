namespace DarkShip.Functions.Definitions;

/// <summary>
/// The one source of truth for the app's functions. The publish script writes each one's
/// function.json from here (<c>darkship functions generate</c>); the local runner reads it to
/// know which triggers to stand in for; tests hold the handler's routes against it.
/// </summary>
internal static class FunctionCatalog
{
    public const string Predict = nameof(Predict);
    public const string Outcomes = nameof(Outcomes);
    public const string ShadowScore = nameof(ShadowScore);
    public const string DriftMonitor = nameof(DriftMonitor);
    public const string PromoteModels = nameof(PromoteModels);
    public const string JoinOutcomes = nameof(JoinOutcomes);

    /// <summary>The Event Hubs connection prefix: <c>MirrorHub__fullyQualifiedNamespace</c> and friends.</summary>
    public const string MirrorConnection = "MirrorHub";

    /// <summary>App settings the triggers read, with the value the sample settings and Bicep give them.</summary>
    public static readonly IReadOnlyDictionary<string, string> SettingDefaults = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["MirrorHubName"] = "mirror",
        ["ShadowConsumerGroup"] = "shadow",
        ["DriftMonitorSchedule"] = "0 */15 * * * *",
        ["PromoteModelsSchedule"] = "0 */5 * * * *",
        ["JoinOutcomesSchedule"] = "30 */10 * * * *",
    };

    public static readonly IReadOnlyList<FunctionDefinition> All =
    [
        new(Predict, new HttpTrigger("predict/{model}/{form?}", ["post"])),
        new(Outcomes, new HttpTrigger("outcomes", ["post"])),
        new(
            ShadowScore,
            new EventHubTrigger("%MirrorHubName%", MirrorConnection, "%ShadowConsumerGroup%"),
            new RetryPolicy(MaxRetryCount: 5, MinimumInterval: TimeSpan.FromSeconds(4), MaximumInterval: TimeSpan.FromMinutes(15))),
        new(DriftMonitor, new TimerTrigger("%DriftMonitorSchedule%")),
        new(PromoteModels, new TimerTrigger("%PromoteModelsSchedule%")),
        new(JoinOutcomes, new TimerTrigger("%JoinOutcomesSchedule%")),
    ];
}
