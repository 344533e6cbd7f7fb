using System.CommandLine;
using System.Globalization;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Registry;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship drift &lt;model&gt;</c> (DriftMonitor's latest report per live version, a bar per feature)
/// and <c>darkship metrics &lt;model&gt;</c> (outcome metrics per version and window). Exit codes:
/// 0 done, 1 the storage account failed, 2 bad input.
/// </summary>
internal static class MonitoringCommand
{
    public static Command Drift()
    {
        var settings = CliSettings.Option();
        var model = new Argument<string>("model") { Description = "The model's name." };
        var version = new Option<string?>("--version") { Description = "Only this version." };
        var drift = new Command("drift", "The latest drift report of each live version: every feature and the prediction against the training baseline and the previous window.") { model, version, settings };
        drift.SetAction((r, ct) => Run(r, settings, cli => cli.DriftAsync(r.GetValue(model)!, r.GetValue(version), ct)));
        return drift;
    }

    public static Command Metrics()
    {
        var settings = CliSettings.Option();
        var model = new Argument<string>("model") { Description = "The model's name." };
        var hours = new Option<double>("--hours") { Description = "How far back, by prediction time (default 168: a week).", DefaultValueFactory = _ => 168 };
        var window = new Option<double>("--window") { Description = "Window length in hours (default 24).", DefaultValueFactory = _ => 24 };
        var metrics = new Command("metrics", "Outcome metrics per version and window: log loss, Brier, AUC, precision/recall at the threshold, calibration (MAE/RMSE for a regression), and each challenger against the champion on the same requests.") { model, hours, window, settings };
        metrics.SetAction((r, ct) => Run(r, settings, cli => cli.MetricsAsync(r.GetValue(model)!, r.GetValue(hours), r.GetValue(window), ct)));
        return metrics;
    }

    private static async Task<int> Run(ParseResult result, Option<FileInfo> settings, Func<MonitoringCli, Task<int>> action)
    {
        var error = result.InvocationConfiguration.Error;
        if (await CliSettings.StorageOrReportAsync(result.GetValue(settings)!, result.CommandResult.Command.Name, error) is not { } account)
        {
            return 2;
        }

        try
        {
            var cli = new MonitoringCli(account.Registry(), account.Artifacts(), account.Drift(), account.Outcomes(), TimeProvider.System, result.InvocationConfiguration.Output, error);
            return await action(cli);
        }
        catch (Exception e) when (StorageFailure.Is(e))
        {
            await error.WriteLineAsync($"{result.CommandResult.Command.Name}: the storage account could not be used: {e.Message}");
            return 1;
        }
    }
}

/// <summary>The monitoring verbs over the domain's ports.</summary>
internal sealed class MonitoringCli(IModelRegistry registry, IModelArtifactStore artifacts, IDriftStore drift, IOutcomeStore outcomes, TimeProvider time, TextWriter output, TextWriter error)
{
    /// <summary>PSI at which the bar is full: twice the alert threshold.</summary>
    private const double BarFullPsi = 0.5;

    private const int BarWidth = 20;

    public async Task<int> DriftAsync(string model, string? version, CancellationToken cancellationToken)
    {
        if (!await KnownAsync(model, "drift", cancellationToken))
        {
            return 2;
        }

        var reports = await drift.LatestAsync(model, version, cancellationToken);
        if (reports.Count == 0)
        {
            await output.WriteLineAsync($"{model}: no drift report yet (DriftMonitor writes one per live version on every run, DriftMonitorSchedule).");
            return 0;
        }

        foreach (var report in reports)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{report.Model} version {report.Version} ({report.Stage}): {report.Status.ToString().ToUpperInvariant()} — {report.Samples} samples {When(report.WindowStart)} to {When(report.WindowEnd)}, {report.PreviousSamples} in the window before; computed {When(report.ComputedAt)}"));
            var rows = new List<string[]>();
            foreach (var subject in report.Findings.Select(f => f.Subject).Distinct())
            {
                var all = report.Findings.Where(f => f.Subject == subject).ToList();
                var baseline = all.FirstOrDefault(f => f.Measure == DriftMeasures.Distribution && f.Reference == "baseline");
                var previous = all.FirstOrDefault(f => f.Measure == DriftMeasures.Distribution && f.Reference == "previous");
                var missing = all.FirstOrDefault(f => f.Measure == DriftMeasures.MissingRate);
                var stale = all.FirstOrDefault(f => f.Measure == "staleRate");
                var status = all.Max(f => f.Status);
                rows.Add([
                    subject,
                    status.ToString().ToLowerInvariant(),
                    N(baseline?.Psi),
                    Bar(baseline?.Psi ?? previous?.Psi),
                    baseline?.Reason ?? "no baseline",
                    N(previous?.Psi),
                    previous is null ? "" : previous.Status.ToString().ToLowerInvariant(),
                    missing is null ? "" : Percent(missing.Value) + (missing.Status >= DriftStatus.Warn ? $" ({missing.Status.ToString().ToLowerInvariant()})" : ""),
                    stale is null ? "" : Percent(stale.Value) + (stale.Status >= DriftStatus.Warn ? $" ({stale.Status.ToString().ToLowerInvariant()})" : ""),
                ]);
            }

            await TextTable.WriteAsync(output, ["FEATURE", "STATUS", "PSI", $"0{new string(' ', BarWidth - 7)}0.25 0.5", "VS BASELINE", "PSI PREV", "VS PREV", "MISSING", "STALE"], rows);
            await output.WriteLineAsync();
        }

        await output.WriteLineAsync("PSI 0.1 warns, 0.25 alerts; below 1000 values KS (numeric) or chi-square (categorical) p-values decide, from 1000 on PSI with Wasserstein or Jensen–Shannon.");
        return 0;
    }

    public async Task<int> MetricsAsync(string model, double hours, double windowHours, CancellationToken cancellationToken)
    {
        if (hours <= 0 || windowHours <= 0)
        {
            await error.WriteLineAsync("metrics: --hours and --window must be positive.");
            return 2;
        }

        if (!await KnownAsync(model, "metrics", cancellationToken))
        {
            return 2;
        }

        var now = time.GetUtcNow();
        var evaluator = new ModelEvaluator(registry, artifacts, outcomes);
        var results = await evaluator.EvaluateAsync(model, now.AddHours(-hours), now.AddMinutes(1), TimeSpan.FromHours(windowHours), cancellationToken);
        if (results.Count == 0)
        {
            await output.WriteLineAsync($"{model}: no labelled predictions in the last {hours.ToString(CultureInfo.InvariantCulture)} hours (POST /api/outcomes).");
            return 0;
        }

        var rows = results.Select(r => new[]
        {
            r.Version, r.Stage, r.WindowStart is { } w ? When(w) : "all", r.Metrics.Count.ToString(CultureInfo.InvariantCulture),
            N(r.Metrics.LogLoss), N(r.Metrics.Brier), N(r.Metrics.Auc), N(r.Metrics.Precision), N(r.Metrics.Recall), N(r.Metrics.Accuracy), N(r.Metrics.Mae), N(r.Metrics.Rmse),
            r.Paired is { } p ? $"{p.Pairs} vs {p.ChampionVersion}: {N(p.Difference)} ± {N(p.StandardError)}" : "",
        });
        await output.WriteLineAsync($"{model}: metrics by prediction time (a late outcome counts in its prediction's window); PAIRED = champion loss − this version's on the same requests (positive: better)");
        await TextTable.WriteAsync(output, ["VERSION", "STAGE", "WINDOW", "N", "LOGLOSS", "BRIER", "AUC", "PRECISION", "RECALL", "ACCURACY", "MAE", "RMSE", "PAIRED"], rows);
        foreach (var r in results.Where(r => r.WindowStart is null && r.Metrics.Calibration.Count > 0))
        {
            await output.WriteLineAsync($"calibration of {r.Version} (bin: mean predicted → observed rate, n): " +
                string.Join("  ", r.Metrics.Calibration.Select(c => $"{N(c.MeanPredicted)}→{N(c.ObservedRate)} ({c.Count})")));
        }

        return 0;
    }

    private async Task<bool> KnownAsync(string model, string verb, CancellationToken cancellationToken)
    {
        var snapshot = await registry.ReadAsync(cancellationToken);
        if (snapshot is not null && snapshot.Of(model).Count > 0)
        {
            return true;
        }

        await error.WriteLineAsync($"{verb}: no versions of '{model}' are registered.");
        return false;
    }

    private static string Bar(double? psi)
    {
        if (psi is not { } value || double.IsNaN(value))
        {
            return "";
        }

        var filled = (int)Math.Round(Math.Clamp(value / BarFullPsi, 0, 1) * BarWidth);
        return new string('█', filled) + new string('·', BarWidth - filled);
    }

    private static string N(double? d) => d is not { } v || double.IsNaN(v) ? "" : v.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Percent(double d) => double.IsNaN(d) ? "" : (d * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z";
}
