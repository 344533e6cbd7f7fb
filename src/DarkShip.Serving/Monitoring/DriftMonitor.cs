using System.Diagnostics;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Telemetry;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Monitoring;

/// <summary>
/// DriftMonitor: for every live version (champion, experiment, shadows) it sums the windowed
/// aggregates ShadowScore keeps into the recent window and the one before, compares each feature and
/// the prediction with the manifest's training baseline and with the previous window (see
/// <see cref="DriftAnalysis"/> and <see cref="DriftOptions"/> for methods and thresholds), keeps the
/// report in the <c>Drift</c> table, records every value on the <c>DarkShip</c> meter and logs
/// each alert (EventId 6200 <c>DriftAlert</c>, Warning) for the on-call alerts. It reads only
/// aggregates: its cost grows with versions × features × bins × windows, never with predictions.
/// </summary>
public sealed partial class DriftMonitor : IGuardrailSignals
{
    private readonly IModelRegistry registry;
    private readonly IModelLineups models;
    private readonly IAggregateStore aggregates;
    private readonly IDriftStore reports;
    private readonly DriftOptions options;
    private readonly TimeSpan loadWait;
    private readonly TimeProvider time;
    private readonly ILogger<DriftMonitor> logger;
    /// <summary>Creates the monitor.</summary>
    public DriftMonitor(IModelRegistry registry, IModelLineups models, IAggregateStore aggregates, IDriftStore reports, DriftOptions options, ServingOptions serving, TimeProvider time, ILogger<DriftMonitor> logger)
    {
        loadWait = serving.ModelLoadWait;
        this.registry = registry;
        this.models = models;
        this.aggregates = aggregates;
        this.reports = reports;
        this.options = options;
        this.time = time;
        this.logger = logger;
    }

    /// <summary>One run: a report per live version; returns them.</summary>
    public async Task<IReadOnlyList<DriftReport>> RunAsync(CancellationToken cancellationToken = default)
    {
        // Unloaded, every version would be skipped as "not loaded" and the drift guardrail would go quiet.
        await models.EnsureLoadedAsync(loadWait, time, cancellationToken).ConfigureAwait(false);
        using var span = DarkShipTelemetry.Source.StartActivity("drift.run");
        var snapshot = await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var length = TimeSpan.FromMinutes(options.WindowMinutes);
        var done = new List<DriftReport>();
        foreach (var version in (snapshot?.Versions ?? []).Where(v => v.Stage is ModelStage.Champion or ModelStage.Experiment or ModelStage.Shadow))
        {
            if (models.Find(version.Name)?.All.FirstOrDefault(m => m.Version.Version == version.Version) is not { } loaded)
            {
                LogNotLoaded(logger, version.Name, version.Version);
                continue;
            }

            try
            {
                var report = await ReportAsync(loaded, now, length, cancellationToken).ConfigureAwait(false);
                await reports.SaveAsync(report, cancellationToken).ConfigureAwait(false);
                Record(report);
                done.Add(report);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e, version.Name, version.Version); // one version's failure does not stop the others
            }
        }

        return done;
    }

    /// <summary>
    /// The drift guardrail: a version is in alert when its latest report (no older than
    /// <see cref="DriftOptions.AlertValidMinutes"/>) finds its predictions drifted from the training
    /// baseline, or a feature's missing or stale rate jumped — what a bad model or a broken feature
    /// pipeline looks like. Input drift alone alerts on-call but does not roll a model back: it moves
    /// every version's inputs alike.
    /// </summary>
    public async Task<string?> DriftAlertAsync(ModelVersion version, CancellationToken cancellationToken = default)
    {
        var latest = (await reports.LatestAsync(version.Name, version.Version, cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        if (latest is null || time.GetUtcNow() - latest.ComputedAt > TimeSpan.FromMinutes(options.AlertValidMinutes))
        {
            return null;
        }

        var reasons = latest.Alerts
            .Where(f => (f.Subject == "prediction" && f.Reference == "baseline") || f.Measure is DriftMeasures.MissingRate or DriftMeasures.StaleRate)
            .Select(f => f.Measure == DriftMeasures.Distribution ? $"prediction drift against the baseline ({f.Reason})" : $"{f.Subject} {f.Measure} {f.Reason}")
            .ToList();
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    private async Task<DriftReport> ReportAsync(LoadedModel loaded, DateTimeOffset now, TimeSpan length, CancellationToken cancellationToken)
    {
        var v = loaded.Version;
        var windows = await aggregates.ReadAsync(v.Name, v.Version, null, now - length - length, cancellationToken).ConfigureAwait(false);
        var currentStart = now - length;
        var current = Sum(windows.Where(w => w.Key.WindowStart >= currentStart), v, currentStart, loaded);
        var previous = Sum(windows.Where(w => w.Key.WindowStart < currentStart), v, currentStart - length, loaded);
        var baseline = TrainingBaseline.From(loaded.Manifest);
        var findings = DriftAnalysis.Compare(loaded.Manifest, baseline, current, previous, options);
        return new DriftReport(v.Name, v.Version, v.Stage.ToString(), now, currentStart, now, current.Scored, previous.Scored, findings);
    }

    private static WindowAggregate Sum(IEnumerable<WindowAggregate> windows, ModelVersion v, DateTimeOffset start, LoadedModel loaded)
    {
        var sum = new WindowAggregate(new AggregateKey(v.Name, v.Version, v.ChangedAt, start), "", loaded.Edges.Prediction);
        foreach (var w in windows)
        {
            if (w.Prediction.Edges.AsSpan().SequenceEqual(sum.Prediction.Edges))
            {
                sum.Merge(w); // a window binned on other edges (an older manifest's) cannot be summed; it is left out
            }
        }

        return sum;
    }

    private void Record(DriftReport report)
    {
        foreach (var f in report.Findings.Where(f => f.Status != DriftStatus.Insufficient))
        {
            var tags = new TagList { { "model", report.Model }, { "version", report.Version }, { "subject", f.Subject }, { "reference", f.Reference }, { "status", f.Status.ToString() } };
            if (f.Measure == DriftMeasures.Distribution)
            {
                DarkShipTelemetry.DriftPsi.Record(f.Psi, tags);
            }
            else
            {
                tags.Add("measure", f.Measure);
                DarkShipTelemetry.DriftRate.Record(f.Value, tags);
            }

            if (f.Status == DriftStatus.Alert)
            {
                DarkShipTelemetry.DriftAlerts.Add(1, tags);
                LogAlert(logger, report.Model, report.Version, report.Stage, f.Subject, f.Measure, f.Reference, f.Reason);
            }
        }
    }

    [LoggerMessage(EventId = 6200, EventName = "DriftAlert", Level = LogLevel.Warning,
        Message = "Drift alert: {Model} version {Version} ({Stage}): {Subject} {Measure} against the {Reference}: {Reason}")]
    private static partial void LogAlert(ILogger logger, string model, string version, string stage, string subject, string measure, string reference, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "DriftMonitor: {Model} version {Version} is not loaded here yet; skipped this run")]
    private static partial void LogNotLoaded(ILogger logger, string model, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "DriftMonitor: {Model} version {Version} could not be evaluated this run")]
    private static partial void LogFailed(ILogger logger, Exception exception, string model, string version);
}
