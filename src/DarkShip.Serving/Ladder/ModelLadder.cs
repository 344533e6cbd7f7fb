using System.Text.RegularExpressions;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Ladder;

/// <summary>Who asks for a change, and why.</summary>
/// <param name="Name">An operator (<c>user@host</c>) or a timer (<c>PromoteModels</c>).</param>
/// <param name="Reason">Why, in words, for the audit.</param>
/// <param name="Evidence">The figures behind it, for the audit.</param>
public sealed record LadderActor(string Name, string Reason, IReadOnlyDictionary<string, string>? Evidence = null);

/// <summary>What a ladder command came to. Outcomes are values, not exceptions.</summary>
public abstract record LadderOutcome
{
    private LadderOutcome()
    {
    }

    /// <summary>Applied; one audit event per version that moved.</summary>
    public sealed record Changed(IReadOnlyList<ModelEvent> Events) : LadderOutcome;

    /// <summary>Not a legal move, or nothing to act on; the reason says which.</summary>
    public sealed record Refused(string Reason) : LadderOutcome;

    /// <summary>Another change to the same versions landed first; nothing was written.</summary>
    public sealed record Conflict(string Reason) : LadderOutcome;
}

/// <summary>
/// Applies ladder commands to the registry: plans them with <see cref="LadderRules"/> on the rows as
/// the caller read them, writes every row the move touches in one <c>If-Match</c> transaction, then
/// appends one audit event per moved version and logs the <c>ModelTransition</c> event alerts fire on.
/// Because the write is conditional on the rows the decision was made from, two overlapping
/// callers that decide the same move cannot both make it: exactly one wins, the other gets a conflict.
/// </summary>
public sealed partial class ModelLadder(IModelRegistry registry, IModelEventLog audit, TimeProvider time, ILogger<ModelLadder> logger)
{
    /// <summary>The id of the log event written for every transition (Application Insights alerts query it).</summary>
    public const int TransitionEventId = 6100;

    private const int AuditAttempts = 3;

    private static readonly Regex VersionLabel = new("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant);

    private static readonly Regex ModelNamePattern = new("^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", RegexOptions.CultureInvariant);

    /// <summary>What a model name is, for messages.</summary>
    public const string ModelNameRule = "A model name is 1 to 63 letters, digits, '-' or '_', starting with a letter or digit.";

    /// <summary>Whether <paramref name="name"/> is a usable model name (it is a table partition key and a blob folder): <see cref="ModelNameRule"/>.</summary>
    public static bool IsValidName(string? name) => name is not null && ModelNamePattern.IsMatch(name);

    /// <summary>Whether <paramref name="version"/> is a usable version label: a letter or digit, then up to 63 letters, digits, '.', '_' or '-'.</summary>
    public static bool IsValidVersion(string version) => VersionLabel.IsMatch(version);

    /// <summary>Reads the registry now and applies <paramref name="command"/> to what it finds.</summary>
    public async Task<LadderOutcome> ApplyAsync(LadderCommand command, LadderActor actor, CancellationToken cancellationToken = default)
    {
        var snapshot = await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        return await ApplyAsync(command, snapshot!.Of(command.Model), actor, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies <paramref name="command"/> to the model's rows as the caller read them (<paramref name="versions"/>, with their ETags).</summary>
    public async Task<LadderOutcome> ApplyAsync(LadderCommand command, IReadOnlyList<ModelVersion> versions, LadderActor actor, CancellationToken cancellationToken = default)
    {
        var (plan, refusal) = LadderRules.Plan(versions, command, time.GetUtcNow());
        if (plan is null)
        {
            return new LadderOutcome.Refused(refusal!);
        }

        if (!await registry.TryUpdateAsync([.. plan.Changes.Select(c => c.After)], cancellationToken).ConfigureAwait(false))
        {
            var names = string.Join(" and ", plan.Changes.Select(c => $"version {c.Before.Version}"));
            return new LadderOutcome.Conflict(
                $"{command.Model} {names} changed since it was read (another operator or a PromoteModels run got there first); nothing was written. Check `models status {command.Model}` and run the command again if it still applies.");
        }

        var events = plan.Changes.Select(c => new ModelEvent(
            command.Model, c.After.Version, c.After.ChangedAt, actor.Name, command.Action, c.Before.Stage, c.After.Stage,
            c.Before.SharePercent, c.After.SharePercent, actor.Reason, actor.Evidence ?? new Dictionary<string, string>())).ToList();
        await RecordAsync(events, cancellationToken).ConfigureAwait(false);
        return new LadderOutcome.Changed(events);
    }

    /// <summary>Adds a new version at stage Registered, with its register event; refused when the name and version exist.</summary>
    public async Task<LadderOutcome> RegisterAsync(ModelVersion version, LadderActor actor, CancellationToken cancellationToken = default)
    {
        var registered = version with { Stage = ModelStage.Registered, SharePercent = 0, RegisteredAt = time.GetUtcNow(), ChangedAt = time.GetUtcNow(), PreviousStage = null, ETag = null };
        if (!await registry.TryAddAsync(registered, cancellationToken).ConfigureAwait(false))
        {
            return new LadderOutcome.Refused($"{version.Name} version {version.Version} is already registered; versions are immutable, register a new one.");
        }

        var e = new ModelEvent(version.Name, version.Version, registered.RegisteredAt, actor.Name, "register", null, ModelStage.Registered, 0, 0,
            actor.Reason, actor.Evidence ?? new Dictionary<string, string>());
        await RecordAsync([e], cancellationToken).ConfigureAwait(false);
        return new LadderOutcome.Changed([e]);
    }

    private async Task RecordAsync(IReadOnlyList<ModelEvent> events, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            LogTransition(logger, e.Model, e.Version, e.Action, e.From?.ToString() ?? "-", e.To, e.FromShare, e.ToShare, e.Actor, e.Reason);
            Telemetry.DarkShipTelemetry.Transitions.Add(1, new("model", e.Model), new("version", e.Version), new("action", e.Action), new("actor", e.Actor));
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await audit.AppendAsync(e, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (attempt < AuditAttempts)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), time, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    // The registry already changed; the transition log line above still carries the whole event.
                    LogAuditFailed(logger, ex, e.Model, e.Version, e.Action);
                    break;
                }
            }
        }
    }

    [LoggerMessage(EventId = TransitionEventId, EventName = "ModelTransition", Level = LogLevel.Warning,
        Message = "ModelTransition {Model} version {Version}: {Action} {From} -> {To} (share {FromShare} -> {ToShare}) by {Actor}: {Reason}")]
    private static partial void LogTransition(ILogger logger, string model, string version, string action, string from, ModelStage to, double fromShare, double toShare, string actor, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Model} version {Version}: the {Action} happened but its audit row could not be written")]
    private static partial void LogAuditFailed(ILogger logger, Exception exception, string model, string version, string action);
}
