using System.Globalization;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Ladder;

/// <summary>A move on the ladder, by an operator or by PromoteModels.</summary>
public abstract record LadderCommand(string Model, string Action)
{
    /// <summary>The version the command names (a rollback may name none: then it means the champion).</summary>
    public string? Target => this switch
    {
        Shadow c => c.Version,
        Experiment c => c.Version,
        Promote c => c.Version,
        Rollback c => c.Version,
        Retire c => c.Version,
        _ => null,
    };

    /// <summary>Put <paramref name="Version"/> in the shadow at <paramref name="Share"/> % of mirrored traffic (or change its share).</summary>
    public sealed record Shadow(string Model, string Version, double Share) : LadderCommand(Model, "shadow");

    /// <summary>Let <paramref name="Version"/> answer <paramref name="Share"/> % of live traffic against the champion (or change its share).</summary>
    public sealed record Experiment(string Model, string Version, double Share) : LadderCommand(Model, "experiment");

    /// <summary>Make <paramref name="Version"/> the champion; the champion it replaces retires. <paramref name="Force"/> skips the experiment.</summary>
    public sealed record Promote(string Model, string Version, bool Force = false) : LadderCommand(Model, "promote");

    /// <summary>
    /// Take <paramref name="Version"/> off the ladder; with no version, or when it is the champion, the
    /// previous champion answers again, in one step.
    /// </summary>
    public sealed record Rollback(string Model, string? Version = null) : LadderCommand(Model, "rollback");

    /// <summary>Retire <paramref name="Version"/> (anything but the champion).</summary>
    public sealed record Retire(string Model, string Version) : LadderCommand(Model, "retire");
}

/// <summary>What a command changes: each version's row before and after.</summary>
public sealed record LadderPlan(IReadOnlyList<(ModelVersion Before, ModelVersion After)> Changes);

/// <summary>
/// The ladder's legal moves, as a pure function of a model's versions:
/// <c>Registered → Shadow (share) → Experiment (share) → Champion → Retired</c>, and <c>RolledBack</c>.
/// A command that breaks a rule is refused with the reason; nothing here reads a clock or a store.
/// </summary>
public static class LadderRules
{
    /// <summary>Plans <paramref name="command"/> on <paramref name="versions"/> (one model's rows as read).</summary>
    /// <returns>The plan, or the reason the command is refused.</returns>
    public static (LadderPlan? Plan, string? Refusal) Plan(IReadOnlyList<ModelVersion> versions, LadderCommand command, DateTimeOffset now)
    {
        var champion = versions.Where(v => v.Stage == ModelStage.Champion).MaxBy(v => v.ChangedAt);
        ModelVersion? Find(string version) => versions.FirstOrDefault(v => v.Version == version);
        ModelVersion Move(ModelVersion v, ModelStage stage, double share) =>
            v with { Stage = stage, SharePercent = share, ChangedAt = now, PreviousStage = v.Stage };
        (LadderPlan?, string?) Refuse(string reason) => (null, reason);
        (LadderPlan?, string?) Do(params (ModelVersion, ModelVersion)[] changes) => (new LadderPlan(changes), null);
        string Name(ModelVersion v) => $"{v.Name} version {v.Version}";

        var version = command.Target ?? (command is LadderCommand.Rollback ? champion?.Version : null);
        if (version is null)
        {
            return Refuse($"{command.Model} has no champion to roll back.");
        }

        if (Find(version) is not { } target)
        {
            return Refuse($"{command.Model} has no version {version}.");
        }

        switch (command)
        {
            case LadderCommand.Shadow { Share: var share }:
                if (share is not (> 0 and <= 100))
                {
                    return Refuse($"A shadow share is above 0 and at most 100 %, not {Percent(share)}.");
                }

                return target.Stage switch
                {
                    ModelStage.Champion => Refuse($"{Name(target)} is the champion; promote another version or roll back instead."),
                    ModelStage.Shadow when target.SharePercent == share => Refuse($"{Name(target)} already shadows {Percent(share)} of traffic."),
                    _ => Do((target, Move(target, ModelStage.Shadow, share))),
                };

            case LadderCommand.Experiment { Share: var share }:
                if (share is not (> 0 and < 100))
                {
                    return Refuse($"An experiment's share is above 0 and below 100 % (100 % is a promotion), not {Percent(share)}.");
                }

                if (champion is null)
                {
                    return Refuse($"{command.Model} has no champion to experiment against; promote a version first.");
                }

                if (versions.FirstOrDefault(v => v.Stage == ModelStage.Experiment && v.Version != target.Version) is { } running)
                {
                    return Refuse($"{Name(running)} is already in an experiment; one at a time. Roll it back, retire it or promote it first.");
                }

                return target.Stage switch
                {
                    ModelStage.Experiment when target.SharePercent == share => Refuse($"{Name(target)} already answers {Percent(share)} of live traffic."),
                    ModelStage.Experiment or ModelStage.Shadow => Do((target, Move(target, ModelStage.Experiment, share))),
                    _ => Refuse($"{Name(target)} is {target.Stage}; only a shadow version can enter an experiment (shadow it first)."),
                };

            case LadderCommand.Promote { Force: var force }:
                if (target.Stage == ModelStage.Champion)
                {
                    return Refuse($"{Name(target)} is already the champion.");
                }

                if (champion is not null && target.Stage != ModelStage.Experiment && !(force && target.Stage == ModelStage.Shadow))
                {
                    return Refuse(target.Stage == ModelStage.Shadow
                        ? $"{Name(target)} is in the shadow; it must win an experiment first (or promote with --force)."
                        : $"{Name(target)} is {target.Stage}; only an experiment (or, forced, a shadow) version can replace the champion.");
                }

                return champion is null
                    ? Do((target, Move(target, ModelStage.Champion, 100)))
                    : Do((target, Move(target, ModelStage.Champion, 100)), (champion, Move(champion, ModelStage.Retired, 0)));

            case LadderCommand.Rollback:
                if (target.Stage == ModelStage.Champion)
                {
                    var previous = versions.Where(v => v.Stage == ModelStage.Retired && v.PreviousStage == ModelStage.Champion).MaxBy(v => v.ChangedAt);
                    return previous is null
                        ? Refuse($"{Name(target)} is the champion and no earlier champion is retired to return to.")
                        : Do((target, Move(target, ModelStage.RolledBack, 0)), (previous, Move(previous, ModelStage.Champion, 100)));
                }

                return target.Stage is ModelStage.Shadow or ModelStage.Experiment
                    ? Do((target, Move(target, ModelStage.RolledBack, 0)))
                    : Refuse($"{Name(target)} is {target.Stage}; only a shadow, experiment or champion version can be rolled back.");

            case LadderCommand.Retire:
                return target.Stage switch
                {
                    ModelStage.Champion => Refuse($"{Name(target)} is the champion; promote another version or roll back instead."),
                    ModelStage.Retired => Refuse($"{Name(target)} is already retired."),
                    _ => Do((target, Move(target, ModelStage.Retired, 0))),
                };

            default:
                throw new ArgumentOutOfRangeException(nameof(command), command, "unknown ladder command");
        }
    }

    private static string Percent(double share) => share.ToString("0.##", CultureInfo.InvariantCulture) + " %";
}
