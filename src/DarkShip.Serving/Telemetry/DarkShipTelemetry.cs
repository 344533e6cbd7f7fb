using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DarkShip.Serving.Telemetry;

/// <summary>
/// Every metric and trace DarkShip emits: one <see cref="Meter"/> and one <see cref="ActivitySource"/>,
/// both named <c>DarkShip</c>. The handler exports them through OpenTelemetry to Application Insights
/// (custom metrics and dependencies, see Functions/Hosting/TelemetryExport) or OTLP; any OpenTelemetry or
/// <c>dotnet-counters</c> listener can subscribe by name. The alerts in <c>bicep/modules/alerts.bicep</c>
/// query these names; the README's "Telemetry" table lists each with its tags.
/// </summary>
public static class DarkShipTelemetry
{
    /// <summary>The meter's and the activity source's name.</summary>
    public const string Name = "DarkShip";

    /// <summary>The meter every instrument below belongs to.</summary>
    public static readonly Meter Meter = new(Name, "1.0");

    /// <summary>Spans: <c>predict</c>, <c>shadow.batch</c>, <c>promote.run</c>, <c>drift.run</c>.</summary>
    public static readonly ActivitySource Source = new(Name, "1.0");

    /// <summary><c>darkship.predict.duration</c> (ms; model, stage = features | scoring | total): the live path by stage.</summary>
    public static readonly Histogram<double> PredictDuration = Meter.CreateHistogram<double>("darkship.predict.duration", "ms", "Predict time by stage: features (parallel reads), scoring, total");

    /// <summary><c>darkship.predict.answers</c> (model, version, arm, degraded = true | false): answers given; degraded ones fell back to a default somewhere.</summary>
    public static readonly Counter<long> PredictAnswers = Meter.CreateCounter<long>("darkship.predict.answers", description: "Predictions answered, by version, arm and whether anything fell back to a default");

    /// <summary><c>darkship.queue.dropped</c> (queue = mirror | prediction-log): items dropped because the buffer was full or the app stopping.</summary>
    public static readonly Counter<long> QueueDropped = Meter.CreateCounter<long>("darkship.queue.dropped", description: "Mirror events or model-log rows dropped: buffer full or shutting down");

    /// <summary><c>darkship.queue.failed</c> (queue): items the destination refused or could not take after the transport's retries.</summary>
    public static readonly Counter<long> QueueFailed = Meter.CreateCounter<long>("darkship.queue.failed", description: "Mirror events or model-log rows lost: refused by the destination, or not taken after the transport's retries");

    /// <summary><c>darkship.shadow.scorings</c> (model, version, outcome = Scored | Error | TimedOut | FeaturesUnavailable).</summary>
    public static readonly Counter<long> ShadowScorings = Meter.CreateCounter<long>("darkship.shadow.scorings", description: "Shadow scorings by outcome");

    /// <summary><c>darkship.shadow.duration</c> (ms; model, version): a shadow model's own scoring time.</summary>
    public static readonly Histogram<double> ShadowDuration = Meter.CreateHistogram<double>("darkship.shadow.duration", "ms", "A shadow model's scoring time");

    /// <summary><c>darkship.shadow.pairs</c> (model, version, agrees = true | false): shadow scores paired with the champion's, by whether the decisions agree.</summary>
    public static readonly Counter<long> ShadowPairs = Meter.CreateCounter<long>("darkship.shadow.pairs", description: "Shadow scores paired with the champion's on the same request, by decision agreement");

    /// <summary><c>darkship.shadow.batches</c> (partition, outcome = succeeded | failed): ShadowScore invocations; a failed one is delivered again by the host.</summary>
    public static readonly Counter<long> ShadowBatches = Meter.CreateCounter<long>("darkship.shadow.batches", description: "ShadowScore invocations by outcome");

    /// <summary><c>darkship.shadow.lost</c> (partition): mirror events of a batch that failed on the host's last retry, which the host then checkpoints past unscored.</summary>
    public static readonly Counter<long> ShadowLost = Meter.CreateCounter<long>("darkship.shadow.lost", description: "Mirror events the host checkpointed past after its last retry failed: never shadow-scored");

    /// <summary><c>darkship.models.load_failures</c> (model, version): a live version that could not be loaded (missing or tampered file, a manifest the model or the features contradict); the previous champion keeps answering.</summary>
    public static readonly Counter<long> ModelLoadFailures = Meter.CreateCounter<long>("darkship.models.load_failures", description: "Live versions that could not be loaded; the one before keeps answering");

    /// <summary><c>darkship.deadletters</c> (source): events set aside as unreadable.</summary>
    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("darkship.deadletters", description: "Events set aside in DeadLetters");

    /// <summary><c>darkship.ladder.transitions</c> (model, version, action, actor): every registry move; actor PromoteModels with action rollback is an automatic rollback.</summary>
    public static readonly Counter<long> Transitions = Meter.CreateCounter<long>("darkship.ladder.transitions", description: "Ladder transitions by action and actor");

    /// <summary><c>darkship.drift.psi</c> (model, version, subject, reference, status): PSI per feature and the prediction, per DriftMonitor run.</summary>
    public static readonly Histogram<double> DriftPsi = Meter.CreateHistogram<double>("darkship.drift.psi", description: "PSI of a feature or the prediction against the baseline or the previous window, per DriftMonitor run");

    /// <summary><c>darkship.drift.rate</c> (model, version, subject, reference, status, measure = missingRate | staleRate).</summary>
    public static readonly Histogram<double> DriftRate = Meter.CreateHistogram<double>("darkship.drift.rate", description: "A feature's missing or stale rate in the recent window");

    /// <summary><c>darkship.drift.alerts</c> (model, version, subject, reference, status): findings at alert level.</summary>
    public static readonly Counter<long> DriftAlerts = Meter.CreateCounter<long>("darkship.drift.alerts", description: "Drift findings at alert level");
}
