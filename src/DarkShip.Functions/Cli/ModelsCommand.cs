using System.CommandLine;
using System.Globalization;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Features;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship models …</c>: the registry and its ladder for operators. Every change is conditional on
/// the rows as read (<c>If-Match</c>): of two concurrent changes one wins and the other is told so.
/// Exit codes: 0 done, 1 failed, 2 bad input, 3 conflict, 4 refused (not a legal move).
/// </summary>
internal static class ModelsCommand
{
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int Conflict = 3;
    public const int Refused = 4;

    public static Command Create()
    {
        var settings = CliSettings.Option(recursive: true);
        var by = new Option<string>("--by") { Description = "Who makes the change, for the audit (default: user@host).", DefaultValueFactory = _ => $"{Environment.UserName}@{Environment.MachineName}", Recursive = true };
        var reason = new Option<string?>("--reason") { Description = "Why, for the audit.", Recursive = true };

        var name = new Option<string>("--name") { Description = "The model's name (must match the manifest's).", Required = true };
        var artifact = new Option<FileInfo>("--artifact") { Description = "The model file: XGBoost JSON, ML.NET .zip or ONNX (the manifest's format, else the file's).", Required = true };
        var manifest = new Option<FileInfo>("--manifest") { Description = "The model's manifest.", Required = true };
        var version = new Option<string?>("--version") { Description = "The version label (default: the manifest's, else one above the highest numeric version)." };
        var register = new Command("register", "Upload a model and its manifest (checked against each other and the feature store) as a new version, stage Registered.") { name, artifact, manifest, version };
        register.SetAction((r, ct) => Run(r, settings, (cli, actor) => cli.RegisterAsync(r.GetValue(name)!, r.GetValue(artifact)!, r.GetValue(manifest)!, r.GetValue(version), actor(r.GetValue(by)!, r.GetValue(reason)), ct), writes: true, ct));

        var model = new Argument<string>("model") { Description = "The model's name." };
        var ver = new Argument<string>("version") { Description = "The version." };
        var optionalVersion = new Argument<string?>("version") { Description = "The version (default: the champion).", Arity = ArgumentArity.ZeroOrOne };
        var share = new Option<double>("--share") { Description = "Share of traffic in percent.", Required = true };
        var force = new Option<bool>("--force") { Description = "Promote a shadow version without an experiment." };

        Command Move(string verb, string description, Func<ParseResult, LadderCommand> command, params Symbol[] symbols)
        {
            var c = new Command(verb, description);
            foreach (var s in symbols)
            {
                switch (s)
                {
                    case Argument a:
                        c.Arguments.Add(a);
                        break;
                    case Option o:
                        c.Options.Add(o);
                        break;
                }
            }

            c.SetAction((r, ct) => Run(r, settings, (cli, actor) => cli.MoveAsync(command(r), actor(r.GetValue(by)!, r.GetValue(reason)), ct), writes: true, ct));
            return c;
        }

        var list = new Command("list", "Every version of every model (or of one), with stage and share.") { new Argument<string?>("model") { Arity = ArgumentArity.ZeroOrOne } };
        list.SetAction((r, ct) => Run(r, settings, (cli, _) => cli.ListAsync(r.GetValue<string?>("model"), ct), writes: false, ct));
        var history = new Command("history", "The model's audit trail, oldest first: who moved what, when, why, on which evidence.") { model };
        history.SetAction((r, ct) => Run(r, settings, (cli, _) => cli.HistoryAsync(r.GetValue(model)!, ct), writes: false, ct));
        var status = new Command("status", "The model's live versions in their current stage: samples, error rates, latencies, agreement with the champion.") { model };
        status.SetAction((r, ct) => Run(r, settings, (cli, _) => cli.StatusAsync(r.GetValue(model)!, ct), writes: false, ct));
        var set = new Option<string[]>("--set") { Description = "rule=value, e.g. minSamples=5000 or shadowRamp=1,10,100 (repeatable).", AllowMultipleArgumentsPerToken = true };
        var rules = new Command("rules", "Show the model's promotion rules, or change them with --set.") { model, set };
        rules.SetAction((r, ct) => Run(r, settings, (cli, _) => cli.RulesAsync(r.GetValue(model)!, r.GetValue(set) ?? [], ct), writes: (r.GetValue(set) ?? []).Length > 0, ct));

        return new Command("models", "The model registry and its ladder: register, shadow, experiment, promote, roll back, retire, inspect.")
        {
            settings, by, reason,
            register,
            Move("shadow", "Score a sampled share of mirrored traffic with the version (or change its share).", r => new LadderCommand.Shadow(r.GetValue(model)!, r.GetValue(ver)!, r.GetValue(share)), model, ver, share),
            Move("experiment", "Let the version answer a share of live traffic against the champion.", r => new LadderCommand.Experiment(r.GetValue(model)!, r.GetValue(ver)!, r.GetValue(share)), model, ver, share),
            Move("promote", "Make the version the champion; the one it replaces retires.", r => new LadderCommand.Promote(r.GetValue(model)!, r.GetValue(ver)!, r.GetValue(force)), model, ver, force),
            Move("rollback", "Take a version off the ladder; with none given, the champion, and the previous champion answers again.", r => new LadderCommand.Rollback(r.GetValue(model)!, r.GetValue(optionalVersion)), model, optionalVersion),
            Move("retire", "Retire a version that is not the champion.", r => new LadderCommand.Retire(r.GetValue(model)!, r.GetValue(ver)!), model, ver),
            list, history, status, rules,
        };
    }

    /// <summary>
    /// Runs a verb against the account: verbs that write create what they need first; read-only verbs
    /// (<paramref name="writes"/> false) create nothing and read a missing table as empty.
    /// </summary>
    private static async Task<int> Run(ParseResult result, Option<FileInfo> settings, Func<ModelsCli, Func<string, string?, LadderActor>, Task<int>> action, bool writes, CancellationToken cancellationToken)
    {
        var output = result.InvocationConfiguration.Output;
        var error = result.InvocationConfiguration.Error;
        if (await CliSettings.StorageOrReportAsync(result.GetValue(settings)!, "models", error) is not { } account)
        {
            return BadInput;
        }

        try
        {
            var (registry, artifacts, events) = writes ? await account.PrepareAsync(cancellationToken) : (account.Registry(), account.Artifacts(), account.EventLog());
            var cli = new ModelsCli(registry, artifacts, events, account.Aggregates(), account.FeatureStore(), TimeProvider.System, output, error);
            return await action(cli, (who, why) => new LadderActor(who, why ?? "by hand"));
        }
        catch (Exception e) when (StorageFailure.Is(e, cancellationToken))
        {
            await error.WriteLineAsync($"models: the storage account could not be used: {e.Message}");
            return Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("models: cancelled.");
            return Failed;
        }
    }
}

/// <summary>The operator verbs over the domain's ports, so they run the same on Azurite and in memory.</summary>
internal sealed class ModelsCli
{
    private readonly IModelRegistry registry;
    private readonly IModelEventLog audit;
    private readonly IAggregateStore aggregates;
    private readonly TextWriter output;
    private readonly TextWriter error;
    private readonly ModelLadder ladder;
    private readonly ModelRegistration registration;

    public ModelsCli(IModelRegistry registry, IModelArtifactStore artifacts, IModelEventLog audit, IAggregateStore aggregates, IFeatureStore features, TimeProvider time, TextWriter output, TextWriter error)
    {
        this.registry = registry;
        this.audit = audit;
        this.aggregates = aggregates;
        this.output = output;
        this.error = error;
        ladder = new ModelLadder(registry, audit, time, NullLogger<ModelLadder>.Instance);
        registration = new ModelRegistration(registry, artifacts, ladder, new ModelLoader(features));
    }

    public async Task<int> RegisterAsync(string name, FileInfo artifact, FileInfo manifestFile, string? version, LadderActor actor, CancellationToken cancellationToken)
    {
        foreach (var file in new[] { artifact, manifestFile }.Where(f => !f.Exists))
        {
            await error.WriteLineAsync($"models register: {file.FullName} does not exist.");
            return ModelsCommand.BadInput;
        }

        var request = new RegistrationRequest(name, await File.ReadAllBytesAsync(artifact.FullName, cancellationToken), await File.ReadAllBytesAsync(manifestFile.FullName, cancellationToken), version);
        switch (await registration.RegisterAsync(request, actor, cancellationToken, artifact.Name, manifestFile.Name))
        {
            case RegistrationOutcome.Registered registered:
                return await ReportAsync("register", new LadderOutcome.Changed(registered.Events));
            case RegistrationOutcome.Invalid invalid:
                await error.WriteLineAsync($"models register: {name} was not registered:\n  " + string.Join("\n  ", invalid.Problems));
                return ModelsCommand.BadInput;
            case RegistrationOutcome.AlreadyRegistered exists:
                await error.WriteLineAsync($"models register: {exists.Name} version {exists.Version} is already registered; versions are immutable, give a new --version.");
                return ModelsCommand.BadInput;
            case RegistrationOutcome.Refused refused:
                return await ReportAsync("register", new LadderOutcome.Conflict(refused.Reason));
            default:
                return ModelsCommand.Failed;
        }
    }

    public async Task<int> MoveAsync(LadderCommand command, LadderActor actor, CancellationToken cancellationToken) =>
        await ReportAsync(command.Action, await ladder.ApplyAsync(command, actor, cancellationToken));

    public async Task<int> ListAsync(string? model, CancellationToken cancellationToken)
    {
        var snapshot = await registry.ReadAsync(cancellationToken);
        var rows = snapshot.Versions.Where(v => model is null || v.Name == model).OrderBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.RegisteredAt).ToList();
        if (rows.Count == 0)
        {
            await output.WriteLineAsync(model is null ? "No models are registered." : $"No versions of '{model}' are registered.");
            return model is null ? 0 : ModelsCommand.BadInput;
        }

        await TextTable.WriteAsync(output, 
            ["MODEL", "VERSION", "STAGE", "SHARE", "SINCE", "REGISTERED", "SHA-256"],
            rows.Select(v => new[] { v.Name, v.Version, v.Stage.ToString(), Share(v), When(v.ChangedAt), When(v.RegisteredAt), v.ArtifactSha256[..Math.Min(12, v.ArtifactSha256.Length)] }));
        return 0;
    }

    public async Task<int> HistoryAsync(string model, CancellationToken cancellationToken)
    {
        var events = await audit.ReadAsync(model, cancellationToken);
        if (events.Count == 0)
        {
            await output.WriteLineAsync($"'{model}' has no history.");
            return ModelsCommand.BadInput;
        }

        foreach (var e in events)
        {
            await output.WriteLineAsync($"{When(e.At)}  {e.Version,-8} {e.Action,-10} {e.From?.ToString() ?? "-"} {Percent(e.FromShare)} -> {e.To} {Percent(e.ToShare)}  by {e.Actor}: {e.Reason}");
            if (e.Evidence.Count > 0)
            {
                await output.WriteLineAsync("    " + string.Join(", ", e.Evidence.Where(p => !p.Key.StartsWith("rule.", StringComparison.Ordinal)).Select(p => $"{p.Key}={p.Value}")));
            }
        }

        return 0;
    }

    public async Task<int> StatusAsync(string model, CancellationToken cancellationToken)
    {
        var snapshot = await registry.ReadAsync(cancellationToken);
        var versions = snapshot.Of(model);
        if (versions.Count == 0)
        {
            await error.WriteLineAsync($"models status: no versions of '{model}' are registered.");
            return ModelsCommand.BadInput;
        }

        // Each version's format, as its registration recorded it in the audit (xgboost-json before formats were recorded).
        var formats = (await audit.ReadAsync(model, cancellationToken)).Where(e => e.Action == "register")
            .GroupBy(e => e.Version, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Evidence.GetValueOrDefault("format") ?? "xgboost-json", StringComparer.Ordinal);
        var rows = new List<string[]>();
        foreach (var v in versions.OrderBy(v => v.Stage.ListingRank()).ThenByDescending(v => v.ChangedAt))
        {
            var stats = v.IsLive ? ModelStats.From(await aggregates.ReadAsync(model, v.Version, v.ChangedAt.ToUniversalTime(), DateTimeOffset.MinValue, cancellationToken)) : ModelStats.Empty;
            rows.Add([
                v.Version, formats.GetValueOrDefault(v.Version, "?"), v.Stage.ToString(), Share(v), When(v.ChangedAt),
                v.IsLive ? stats.Samples.ToString(CultureInfo.InvariantCulture) : "",
                v.IsLive && stats.Samples > 0 ? (stats.ErrorRate * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %" : "",
                Number(stats.P50LatencyMs), Number(stats.P99LatencyMs),
                stats.Pairs > 0 ? stats.Pairs.ToString(CultureInfo.InvariantCulture) : "",
                stats.Pairs > 0 ? (stats.Agreement * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "",
                Number(stats.PredictionPsi), Number(stats.RankCorrelation),
            ]);
        }

        await output.WriteLineAsync($"{model}: figures since each version's last stage change (p50/p99: upper bin edges; PSI and rank correlation against the champion on the same requests)");
        await TextTable.WriteAsync(output, ["VERSION", "FORMAT", "STAGE", "SHARE", "SINCE", "SAMPLES", "ERRORS", "P50 MS", "P99 MS", "PAIRS", "AGREE", "PSI", "SPEARMAN"], rows);
        var rules = snapshot.RulesFor(model);
        await output.WriteLineAsync($"rules: {string.Join(", ", rules.ToValues().Select(p => $"{p.Key}={p.Value}"))}");
        return 0;
    }

    public async Task<int> RulesAsync(string model, IReadOnlyList<string> sets, CancellationToken cancellationToken)
    {
        var snapshot = await registry.ReadAsync(cancellationToken);
        if (snapshot.Of(model).Count == 0)
        {
            await error.WriteLineAsync($"models rules: no versions of '{model}' are registered.");
            return ModelsCommand.BadInput;
        }

        var rules = snapshot.RulesFor(model);
        if (sets.Count > 0)
        {
            try
            {
                rules = sets.Aggregate(rules, (r, set) => r.With(set));
            }
            catch (FormatException e)
            {
                await error.WriteLineAsync($"models rules: {e.Message}");
                return ModelsCommand.BadInput;
            }

            if (!await registry.TrySetRulesAsync(model, rules, cancellationToken))
            {
                await error.WriteLineAsync($"models rules: {model}'s rules changed since they were read; nothing was written. Run the command again.");
                return ModelsCommand.Conflict;
            }
        }

        foreach (var (name, value) in rules.ToValues())
        {
            var isDefault = PromotionRules.Default.ToValues()[name] == value;
            await output.WriteLineAsync($"{name,-20} {value}{(isDefault ? "" : "   (default " + PromotionRules.Default.ToValues()[name] + ")")}");
        }

        return 0;
    }

    private async Task<int> ReportAsync(string verb, LadderOutcome outcome)
    {
        switch (outcome)
        {
            case LadderOutcome.Changed changed:
                foreach (var e in changed.Events)
                {
                    await output.WriteLineAsync($"{e.Model} version {e.Version}: {e.From?.ToString() ?? "-"} {Percent(e.FromShare)} -> {e.To} {Percent(e.ToShare)}");
                }

                return 0;
            case LadderOutcome.Conflict conflict:
                await error.WriteLineAsync($"models {verb}: conflict: {conflict.Reason}");
                return ModelsCommand.Conflict;
            case LadderOutcome.Refused refused:
                await error.WriteLineAsync($"models {verb}: refused: {refused.Reason}");
                return ModelsCommand.Refused;
            default:
                return ModelsCommand.Failed;
        }
    }

    private static string Share(ModelVersion v) => v.Stage is ModelStage.Shadow or ModelStage.Experiment or ModelStage.Champion ? Percent(v.SharePercent) : "";

    private static string Percent(double share) => share.ToString("0.##", CultureInfo.InvariantCulture) + " %";

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";

    private static string Number(double d) => double.IsNaN(d) ? "" : double.IsPositiveInfinity(d) ? ">5000" : d.ToString("0.###", CultureInfo.InvariantCulture);
}
