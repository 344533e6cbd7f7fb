using System.Globalization;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Ladder;

/// <summary>What the experiment analysis concluded about a challenger against the champion.</summary>
public enum ExperimentDecision
{
    /// <summary>Not enough evidence either way yet.</summary>
    Inconclusive,

    /// <summary>The challenger is better, with the analysis' statistical confidence.</summary>
    ChallengerBetter,

    /// <summary>The champion is better, with the analysis' statistical confidence.</summary>
    ChampionBetter,
}

/// <summary>The experiment analysis' verdict, with its figures for the audit.</summary>
public sealed record ExperimentVerdict(ExperimentDecision Decision, string Summary, IReadOnlyDictionary<string, string> Evidence);

/// <summary>Compares an experiment's challenger with the champion on outcomes (the sequential test over labelled predictions).</summary>
public interface IExperimentAnalysis
{
    /// <summary>The verdict on <paramref name="challenger"/> against <paramref name="champion"/> since the experiment started, under the model's <paramref name="rules"/>.</summary>
    Task<ExperimentVerdict> AnalyzeAsync(ModelVersion champion, ModelVersion challenger, PromotionRules rules, CancellationToken cancellationToken = default);
}

/// <summary>Monitoring alerts a guardrail rolls back on.</summary>
public interface IGuardrailSignals
{
    /// <summary>Why <paramref name="version"/> is in a drift alert right now, or <see langword="null"/> when it is not.</summary>
    Task<string?> DriftAlertAsync(ModelVersion version, CancellationToken cancellationToken = default);
}

/// <summary>What PromoteModels did, or chose not to do, for one version in one run.</summary>
/// <param name="Model">The model.</param>
/// <param name="Version">The version.</param>
/// <param name="Action">The ladder step taken (<c>shadow</c>, <c>experiment</c>, <c>promote</c>, <c>rollback</c>), or <c>hold</c>.</param>
/// <param name="Outcome">Whether the move was made, held, refused, lost to a conflict, or the model could not be evaluated.</param>
/// <param name="Reason">Why.</param>
public sealed record PromotionDecision(string Model, string Version, string Action, PromotionOutcome Outcome, string Reason);

/// <summary>What became of one promotion decision.</summary>
public enum PromotionOutcome
{
    /// <summary>The move was made.</summary>
    Changed,

    /// <summary>Not yet: the evidence does not say so.</summary>
    Held,

    /// <summary>The ladder refused the move.</summary>
    Refused,

    /// <summary>Another change landed first.</summary>
    Conflict,

    /// <summary>The model could not be evaluated this run.</summary>
    Failed,
}

/// <summary>
/// PromoteModels: each run reads the registry once and applies every model's rules (stored in the
/// registry, see <see cref="PromotionRules"/>) to the windowed aggregates of the current stage epoch.
/// <list type="bullet">
/// <item>A shadow climbs the ramp (e.g. 1 → 10 → 100 %) once a step has <c>minSamples</c> samples with
/// error rate, p99 latency and prediction shift against the champion (PSI) within bounds; at 100 % with
/// enough samples it enters an experiment at <c>experimentShare</c>. A shadow whose error rate breaks the
/// bound is rolled back; one out of bounds otherwise holds.</item>
/// <item>An experiment is promoted only when the experiment analysis reports the challenger better with
/// statistical confidence, and rolled back when it reports the champion better.</item>
/// <item>Guardrails: an experiment, or a champion within its probation after a promotion, is rolled back
/// (the previous champion restored) when its error rate or p99 latency breaks the bound, or a drift
/// alert is open on it.</item>
/// </list>
/// Every move goes through <see cref="ModelLadder"/> with the rows as this run read them, so when two
/// runs overlap a move happens once: the second run's write finds the rows changed and is refused.
/// </summary>
public sealed partial class ModelPromoter(
    IModelRegistry registry,
    ModelLadder ladder,
    IAggregateStore aggregates,
    IExperimentAnalysis analysis,
    IGuardrailSignals signals,
    TimeProvider time,
    ILogger<ModelPromoter> logger)
{
    /// <summary>The actor name in the audit.</summary>
    public const string Actor = "PromoteModels";

    /// <summary>One run over every model.</summary>
    public async Task<IReadOnlyList<PromotionDecision>> RunAsync(CancellationToken cancellationToken = default)
    {
        using var span = Telemetry.DarkShipTelemetry.Source.StartActivity("promote.run");
        var snapshot = await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        var decisions = new List<PromotionDecision>();
        foreach (var model in snapshot!.Versions.Select(v => v.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var rules = snapshot.RulesFor(model);
            if (!rules.Enabled)
            {
                continue;
            }

            try
            {
                await RunModelAsync(snapshot.Of(model), rules, decisions, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One model's failure (a store hiccup) does not stop the others; the next run tries again.
                LogModelFailed(logger, e, model);
                decisions.Add(new PromotionDecision(model, "*", "hold", PromotionOutcome.Failed, e.Message));
            }
        }

        return decisions;
    }

    private async Task RunModelAsync(IReadOnlyList<ModelVersion> versions, PromotionRules rules, List<PromotionDecision> decisions, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var champion = versions.Where(v => v.Stage == ModelStage.Champion).MaxBy(v => v.ChangedAt);

        // A fresh champion under probation: roll back to the one it replaced if a guardrail breaks.
        if (champion is not null && champion.PreviousStage is ModelStage.Experiment or ModelStage.Shadow or ModelStage.Registered
            && now - champion.ChangedAt < TimeSpan.FromHours(rules.ProbationHours)
            && versions.Any(v => v.Stage == ModelStage.Retired && v.PreviousStage == ModelStage.Champion))
        {
            var stats = await StatsAsync(champion, cancellationToken).ConfigureAwait(false);
            if (await BreachAsync(champion, stats, rules, cancellationToken).ConfigureAwait(false) is { } breach)
            {
                decisions.Add(await MoveAsync(new LadderCommand.Rollback(champion.Name, champion.Version), versions,
                    $"guardrail on the new champion: {breach}", stats, rules, cancellationToken).ConfigureAwait(false));
                return; // the lineup changed under everything else; the next run sees it
            }
        }

        var experiment = versions.FirstOrDefault(v => v.Stage == ModelStage.Experiment);
        if (experiment is not null && champion is not null)
        {
            var stats = await StatsAsync(experiment, cancellationToken).ConfigureAwait(false);
            if (await BreachAsync(experiment, stats, rules, cancellationToken).ConfigureAwait(false) is { } breach)
            {
                decisions.Add(await MoveAsync(new LadderCommand.Rollback(experiment.Name, experiment.Version), versions,
                    $"guardrail on the experiment: {breach}", stats, rules, cancellationToken).ConfigureAwait(false));
                experiment = null;
            }
            else
            {
                var verdict = await analysis.AnalyzeAsync(champion, experiment, rules, cancellationToken).ConfigureAwait(false);
                var evidence = new Dictionary<string, string>(verdict.Evidence, StringComparer.Ordinal);
                switch (verdict.Decision)
                {
                    case ExperimentDecision.ChallengerBetter:
                        decisions.Add(await MoveAsync(new LadderCommand.Promote(experiment.Name, experiment.Version), versions,
                            $"the experiment analysis found the challenger better: {verdict.Summary}", stats, rules, cancellationToken, evidence).ConfigureAwait(false));
                        return;
                    case ExperimentDecision.ChampionBetter:
                        decisions.Add(await MoveAsync(new LadderCommand.Rollback(experiment.Name, experiment.Version), versions,
                            $"the experiment analysis found the champion better: {verdict.Summary}", stats, rules, cancellationToken, evidence).ConfigureAwait(false));
                        experiment = null;
                        break;
                    default:
                        decisions.Add(new PromotionDecision(experiment.Name, experiment.Version, "hold", PromotionOutcome.Held, $"experiment continues: {verdict.Summary}"));
                        break;
                }
            }
        }

        if (champion is null)
        {
            return; // shadows are compared with a champion; without one there is nothing to climb towards
        }

        foreach (var shadow in versions.Where(v => v.Stage == ModelStage.Shadow).OrderBy(v => v.ChangedAt))
        {
            var stats = await StatsAsync(shadow, cancellationToken).ConfigureAwait(false);
            if (stats.Samples >= rules.MinGuardrailSamples && stats.ErrorRate > rules.MaxErrorRate)
            {
                decisions.Add(await MoveAsync(new LadderCommand.Rollback(shadow.Name, shadow.Version), versions,
                    $"shadow error rate {F(stats.ErrorRate)} is above {F(rules.MaxErrorRate)}", stats, rules, cancellationToken).ConfigureAwait(false));
                continue;
            }

            if (ShadowHold(stats, rules) is { } hold)
            {
                decisions.Add(new PromotionDecision(shadow.Name, shadow.Version, "hold", PromotionOutcome.Held, hold));
                continue;
            }

            if (NextShadowShare(shadow, rules) is { } share)
            {
                decisions.Add(await MoveAsync(new LadderCommand.Shadow(shadow.Name, shadow.Version, share), versions,
                    $"ramp: {stats.Samples} samples at {F(shadow.SharePercent)} % within bounds", stats, rules, cancellationToken).ConfigureAwait(false));
            }
            else if (experiment is null)
            {
                var decision = await MoveAsync(new LadderCommand.Experiment(shadow.Name, shadow.Version, rules.ExperimentShare), versions,
                    $"{stats.Samples} samples in full shadow within bounds: experiment at {F(rules.ExperimentShare)} % of live traffic", stats, rules, cancellationToken).ConfigureAwait(false);
                decisions.Add(decision);
                if (decision.Outcome == PromotionOutcome.Changed)
                {
                    experiment = shadow; // one experiment at a time
                }
            }
            else
            {
                decisions.Add(new PromotionDecision(shadow.Name, shadow.Version, "hold", PromotionOutcome.Held, $"ready for an experiment, but version {experiment.Version} is in one"));
            }
        }
    }

    /// <summary>The ramp's next share above the shadow's, or <see langword="null"/> at the top (next: an experiment).</summary>
    public static double? NextShadowShare(ModelVersion shadow, PromotionRules rules) =>
        rules.ShadowRamp.Where(step => step > shadow.SharePercent).Cast<double?>().FirstOrDefault();

    /// <summary>Why a shadow with <paramref name="stats"/> in its current step does not climb yet, or <see langword="null"/> when it may.</summary>
    public static string? ShadowHold(ModelStats stats, PromotionRules rules)
    {
        if (stats.Samples < rules.MinSamples)
        {
            return $"{stats.Samples} of {rules.MinSamples} samples at this step";
        }

        if (stats.ErrorRate > rules.MaxErrorRate)
        {
            return $"error rate {F(stats.ErrorRate)} is above {F(rules.MaxErrorRate)}";
        }

        if (stats.P99LatencyMs > rules.MaxP99LatencyMs)
        {
            return $"p99 latency {F(stats.P99LatencyMs)} ms is above {F(rules.MaxP99LatencyMs)} ms";
        }

        if (stats.Pairs == 0)
        {
            return "no requests paired with the champion yet";
        }

        return stats.PredictionPsi > rules.MaxPredictionPsi
            ? $"prediction shift against the champion (PSI {F(stats.PredictionPsi)}) is above {F(rules.MaxPredictionPsi)}"
            : null;
    }

    private async Task<string?> BreachAsync(ModelVersion version, ModelStats stats, PromotionRules rules, CancellationToken cancellationToken)
    {
        if (await signals.DriftAlertAsync(version, cancellationToken).ConfigureAwait(false) is { } drift)
        {
            return $"drift alert: {drift}";
        }

        if (stats.Samples < rules.MinGuardrailSamples)
        {
            return null;
        }

        if (stats.ErrorRate > rules.MaxErrorRate)
        {
            return $"error rate {F(stats.ErrorRate)} is above {F(rules.MaxErrorRate)} over {stats.Samples} samples";
        }

        return stats.P99LatencyMs > rules.MaxP99LatencyMs
            ? $"p99 latency {F(stats.P99LatencyMs)} ms is above {F(rules.MaxP99LatencyMs)} ms over {stats.Samples} samples"
            : null;
    }

    private async Task<ModelStats> StatsAsync(ModelVersion version, CancellationToken cancellationToken) =>
        ModelStats.From(await aggregates.ReadAsync(version.Name, version.Version, version.ChangedAt.ToUniversalTime(), DateTimeOffset.MinValue, cancellationToken).ConfigureAwait(false));

    private async Task<PromotionDecision> MoveAsync(
        LadderCommand command, IReadOnlyList<ModelVersion> versions, string reason, ModelStats stats, PromotionRules rules,
        CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? more = null)
    {
        var evidence = new Dictionary<string, string>(stats.ToEvidence(), StringComparer.Ordinal);
        foreach (var (name, value) in rules.ToValues())
        {
            evidence["rule." + name] = value;
        }

        foreach (var (name, value) in more ?? new Dictionary<string, string>())
        {
            evidence[name] = value;
        }

        var version = command.Target ?? "champion";
        var outcome = await ladder.ApplyAsync(command, versions, new LadderActor(Actor, reason, evidence), cancellationToken).ConfigureAwait(false);
        var (status, why) = outcome switch
        {
            LadderOutcome.Changed => (PromotionOutcome.Changed, reason),
            LadderOutcome.Refused r => (PromotionOutcome.Refused, r.Reason),
            LadderOutcome.Conflict c => (PromotionOutcome.Conflict, c.Reason),
            var other => throw new InvalidOperationException($"Unexpected ladder outcome {other}."),
        };
        if (status != PromotionOutcome.Changed)
        {
            LogNotApplied(logger, command.Model, version, command.Action, status, why);
        }

        return new PromotionDecision(command.Model, version, command.Action, status, why);
    }

    private static string F(double d) => d.ToString("0.####", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Error, Message = "PromoteModels: {Model} could not be evaluated this run")]
    private static partial void LogModelFailed(ILogger logger, Exception exception, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "PromoteModels: {Model} version {Version}: {Action} was {Status}: {Reason}")]
    private static partial void LogNotApplied(ILogger logger, string model, string version, string action, PromotionOutcome status, string reason);
}

/// <summary>The analysis used until outcomes are analysed: never confident, so no experiment is promoted automatically.</summary>
public sealed class NoExperimentAnalysis : IExperimentAnalysis
{
    /// <inheritdoc />
    public Task<ExperimentVerdict> AnalyzeAsync(ModelVersion champion, ModelVersion challenger, PromotionRules rules, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ExperimentVerdict(ExperimentDecision.Inconclusive, "no outcome analysis is configured; promote by hand with `models promote`", new Dictionary<string, string>()));
}

/// <summary>The signals used until drift is monitored: no alerts.</summary>
public sealed class NoGuardrailSignals : IGuardrailSignals
{
    /// <inheritdoc />
    public Task<string?> DriftAlertAsync(ModelVersion version, CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);
}
