namespace DarkShip.Serving.Mirror;

/// <summary>One model's answer to a request.</summary>
/// <param name="Version">The model version.</param>
/// <param name="Arm"><c>champion</c> or <c>experiment</c>.</param>
/// <param name="Scores">Its outputs.</param>
/// <param name="Decision">Its decision label, when the manifest has a threshold.</param>
/// <param name="Served">Whether this answer went back to the caller.</param>
/// <param name="Error">Why the version could not answer (no scores then), e.g. an experiment that threw and the champion answered for.</param>
public sealed record MirroredOutput(string Version, string Arm, float[] Scores, string? Decision, bool Served, string? Error = null);

/// <summary>What a group's read gave the request.</summary>
/// <param name="Status">How the read went (<c>found</c>, <c>notFound</c>, <c>noKey</c>, <c>timedOut</c>, <c>failed</c>).</param>
/// <param name="AsOf">The row's timestamp, when found.</param>
/// <param name="AgeSeconds">How old the row was when served.</param>
/// <param name="Values">The row's raw values (double, bool, string), when found.</param>
public sealed record MirroredGroup(string Status, DateTimeOffset? AsOf, double? AgeSeconds, IReadOnlyDictionary<string, object>? Values);

/// <summary>
/// A prediction as mirrored to the <c>mirror</c> hub for shadow scoring, monitoring and replay.
/// Versioned: <see cref="SchemaVersion"/> changes only when a reader could misread the event.
/// </summary>
/// <param name="PredictionId">Time-ordered id.</param>
/// <param name="Model">The model's name.</param>
/// <param name="Timestamp">When the prediction was made.</param>
/// <param name="RequestId">The caller's id for the request.</param>
/// <param name="Entities">Entity keys by group, as the caller sent them.</param>
/// <param name="PartitionKey">The assignment entity's key (or the prediction id): keeps one entity's events in order.</param>
/// <param name="Groups">Every group read, with its raw row and age.</param>
/// <param name="Inline">Inline feature values the caller sent.</param>
/// <param name="Features">The served model's input, by feature name, exactly as scored (NaN: missing).</param>
/// <param name="Degraded">What fell back to defaults.</param>
/// <param name="Outputs">Every live-path model's answer (the champion's always, so shadows pair with it).</param>
/// <param name="FeatureMilliseconds">Time spent reading features.</param>
/// <param name="TotalMilliseconds">Time from request to answer.</param>
public sealed record MirrorEvent(
    string PredictionId,
    string Model,
    DateTimeOffset Timestamp,
    string? RequestId,
    IReadOnlyDictionary<string, string> Entities,
    string PartitionKey,
    IReadOnlyDictionary<string, MirroredGroup> Groups,
    IReadOnlyDictionary<string, object> Inline,
    IReadOnlyList<KeyValuePair<string, float>> Features,
    IReadOnlyList<string> Degraded,
    IReadOnlyList<MirroredOutput> Outputs,
    double FeatureMilliseconds,
    double TotalMilliseconds)
{
    /// <summary>The event schema this code writes.</summary>
    public const int SchemaVersion = 1;
}

/// <summary>Takes mirror events off the request path. Never blocks and never throws.</summary>
public interface IMirrorPublisher
{
    /// <summary>Queues <paramref name="mirrorEvent"/>; <see langword="false"/> when it had to be dropped (buffer full or shutting down).</summary>
    bool TryPublish(MirrorEvent mirrorEvent);
}

/// <summary>One row of the model log: one model version's prediction for one request.</summary>
/// <param name="PredictionId">Time-ordered id, shared by every version that scored the request.</param>
/// <param name="Model">The model's name.</param>
/// <param name="Version">The version that scored.</param>
/// <param name="Arm"><c>champion</c>, <c>experiment</c> or <c>shadow</c>.</param>
/// <param name="Served">Whether this answer went back to the caller.</param>
/// <param name="Timestamp">When the prediction was made.</param>
/// <param name="RequestId">The caller's id for the request.</param>
/// <param name="Entities">Entity keys by group.</param>
/// <param name="Features">The version's input by feature name, exactly as scored.</param>
/// <param name="Scores">Its outputs.</param>
/// <param name="Decision">Its decision label.</param>
/// <param name="Degraded">What fell back to defaults.</param>
/// <param name="LatencyMilliseconds">Time from request to answer.</param>
public sealed record PredictionLogEntry(
    string PredictionId,
    string Model,
    string Version,
    string Arm,
    bool Served,
    DateTimeOffset Timestamp,
    string? RequestId,
    IReadOnlyDictionary<string, string> Entities,
    IReadOnlyList<KeyValuePair<string, float>> Features,
    float[] Scores,
    string? Decision,
    IReadOnlyList<string> Degraded,
    double LatencyMilliseconds);

/// <summary>Takes model-log rows off the request path. Never blocks and never throws.</summary>
public interface IPredictionLog
{
    /// <summary>Queues <paramref name="entry"/>; <see langword="false"/> when it had to be dropped.</summary>
    bool TryAppend(PredictionLogEntry entry);
}
