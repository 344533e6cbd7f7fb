namespace DarkShip.Serving.Registry;

/// <summary>
/// One row of the append-only audit (<c>ModelEvents</c>): who moved which version from where to where,
/// when, why, and the evidence that justified it (the figures a rule looked at, as text).
/// </summary>
/// <param name="Model">The model's name.</param>
/// <param name="Version">The version that moved.</param>
/// <param name="At">When.</param>
/// <param name="Actor">Who: an operator (<c>user@host</c>) or <c>PromoteModels</c>.</param>
/// <param name="Action">The ladder step: <c>register</c>, <c>shadow</c>, <c>experiment</c>, <c>promote</c>, <c>rollback</c>, <c>retire</c>.</param>
/// <param name="From">The stage before.</param>
/// <param name="To">The stage after.</param>
/// <param name="FromShare">The share before, in percent.</param>
/// <param name="ToShare">The share after, in percent.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Evidence">The figures behind the decision, by name.</param>
public sealed record ModelEvent(
    string Model,
    string Version,
    DateTimeOffset At,
    string Actor,
    string Action,
    ModelStage? From,
    ModelStage To,
    double FromShare,
    double ToShare,
    string Reason,
    IReadOnlyDictionary<string, string> Evidence);

/// <summary>The audit of stage changes. Rows are only ever added.</summary>
public interface IModelEventLog
{
    /// <summary>Adds <paramref name="modelEvent"/>.</summary>
    Task AppendAsync(ModelEvent modelEvent, CancellationToken cancellationToken = default);

    /// <summary>The model's events, oldest first.</summary>
    Task<IReadOnlyList<ModelEvent>> ReadAsync(string model, CancellationToken cancellationToken = default);
}
