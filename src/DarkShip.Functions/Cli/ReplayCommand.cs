using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Export;
using DarkShip.Serving.Features;
using DarkShip.Serving.Models;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Replay;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship replay</c>: scores a candidate model offline on the logged requests of a time range, with
/// point-in-time features, and prints the comparison the shadow path computes (agreement, score deltas,
/// PSI, rank correlation, latency) and, where outcomes exist, both models' metrics on the same requests.
/// Exit codes: 0 done, 1 the storage account failed, 2 bad input.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var settings = CliSettings.Option();
        var model = new Option<string>("--model") { Description = "The model whose logged traffic is replayed.", Required = true };
        var candidate = new Option<FileInfo>("--candidate") { Description = "The candidate's XGBoost JSON model.", Required = true };
        var manifest = new Option<FileInfo>("--manifest") { Description = "The candidate's manifest.", Required = true };
        var from = new Option<DateTimeOffset>("--from") { Description = "First prediction time, e.g. 2026-11-01 (UTC unless an offset is given).", Required = true };
        var to = new Option<DateTimeOffset>("--to") { Description = "Last prediction time, exclusive.", Required = true };
        var rows = new Option<FileInfo?>("--output") { Description = "Also write every replayed request (ids, both scores, label, degraded) to this CSV." };
        var source = new TrafficSource();
        var command = new Command("replay", "Score a candidate on logged traffic (the model log or Event Hubs Capture) with point-in-time features; compare it with the champion as the shadow path does.")
        {
            model, candidate, manifest, from, to, rows, settings,
        };
        foreach (var option in source.Options)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (r, ct) =>
        {
            var error = r.InvocationConfiguration.Error;
            if (await CliSettings.StorageOrReportAsync(r.GetValue(settings)!, "replay", error) is not { } account)
            {
                return 2;
            }

            var manifests = new RegisteredManifests(account.Registry(), account.Artifacts());
            var (traffic, failed) = await source.OpenAsync(r, account, manifests, "replay", error, ct);
            if (traffic is null)
            {
                return failed;
            }

            var cli = new ReplayCli(traffic.Log, account.Outcomes(), account.FeatureStore(), manifests, TimeProvider.System, r.InvocationConfiguration.Output, error);
            var code = await cli.RunAsync(r.GetValue(model)!, r.GetValue(candidate)!, r.GetValue(manifest)!, r.GetValue(from).ToUniversalTime(), r.GetValue(to).ToUniversalTime(), r.GetValue(rows), ct);
            await TrafficSource.ReportAsync(traffic, "replay", error);
            return code;
        });
        return command;
    }
}

/// <summary>The replay verb over the domain's ports.</summary>
internal sealed class ReplayCli(IPredictionLogScanner log, IOutcomeStore outcomes, IFeatureStore features, IServedManifests served, TimeProvider time, TextWriter output, TextWriter error)
{
    /// <summary>Requests between progress lines.</summary>
    private const int ProgressEvery = 5000;

    public async Task<int> RunAsync(string model, FileInfo candidateFile, FileInfo manifestFile, DateTimeOffset from, DateTimeOffset to, FileInfo? rowsFile, CancellationToken cancellationToken)
    {
        if (to <= from)
        {
            await error.WriteLineAsync("replay: --to must be after --from.");
            return 2;
        }

        try
        {
            var candidate = await LoadAsync(model, candidateFile, manifestFile, cancellationToken);
            if (candidate is null)
            {
                return 2;
            }

            var replay = new ModelReplay(new TrainingSetExporter(log, outcomes), new PointInTimeFeatures(features, served, candidate.Plan, readAheadTo: to), candidate, new ModelScorer(time, NullLogger<ModelScorer>.Instance));
            await using var rows = rowsFile is null ? null : new StreamWriter(rowsFile.FullName, false, new UTF8Encoding(false)) { NewLine = "\n" };
            if (rows is not null)
            {
                await rows.WriteLineAsync("prediction_id,predicted_at,champion_version,champion_score,candidate_score,label,degraded");
            }

            long seen = 0;
            var report = await replay.RunAsync(model, from, to, async row =>
            {
                if (rows is not null)
                {
                    await rows.WriteLineAsync(Line(row));
                }

                if (++seen % ProgressEvery == 0)
                {
                    await error.WriteAsync($"\rreplay: {seen} requests");
                }
            }, cancellationToken);
            if (seen >= ProgressEvery)
            {
                await error.WriteLineAsync();
            }

            await WriteAsync(model, candidateFile, candidate, from, to, report);
            return 0;
        }
        catch (Exception e) when (e is OperationCanceledException || StorageFailure.Is(e))
        {
            await error.WriteLineAsync($"\nreplay: stopped: {e.Message}");
            return 1;
        }
    }

    private async Task<LoadedModel?> LoadAsync(string model, FileInfo candidateFile, FileInfo manifestFile, CancellationToken cancellationToken)
    {
        candidateFile.Refresh();
        if (!candidateFile.Exists)
        {
            await error.WriteLineAsync($"replay: {candidateFile.FullName} does not exist.");
            return null;
        }

        manifestFile.Refresh();
        if (!manifestFile.Exists)
        {
            await error.WriteLineAsync($"replay: {manifestFile.FullName} does not exist.");
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(candidateFile.FullName, cancellationToken);
        var check = await new ModelLoader(features).CheckAsync(bytes, await File.ReadAllBytesAsync(manifestFile.FullName, cancellationToken), model, cancellationToken, candidateFile.Name, manifestFile.Name);
        if (!check.IsValid)
        {
            await error.WriteLineAsync($"replay: the candidate cannot be used:\n  " + string.Join("\n  ", check.Problems));
            return null;
        }

        var version = new ModelVersion(model, check.Manifest!.Version ?? "candidate", ModelStage.Registered, 0, candidateFile.FullName, Convert.ToHexStringLower(SHA256.HashData(bytes)),
            manifestFile.FullName, "", time.GetUtcNow());
        return check.ToLoaded(version);
    }

    private async Task WriteAsync(string model, FileInfo candidateFile, LoadedModel candidate, DateTimeOffset from, DateTimeOffset to, ReplayReport report)
    {
        await output.WriteLineAsync($"Replay of {candidateFile.Name} ({candidate.Manifest.Name} version {candidate.Version.Version}) on {model}'s requests from {When(from)} to {When(to)}: {report.Requests} requests"
            + (report.Requests == 0 ? "." : ", answered by champion " + string.Join(", ", report.ChampionVersions.Select(v => $"version {v.Key} ({v.Value})"))));
        if (report.Requests == 0)
        {
            await output.WriteLineAsync("Nothing to replay: the model log holds no prediction of this model in the range.");
            return;
        }

        await output.WriteLineAsync($"Features from the log, as served: {List(report.FeaturesFromLog)}");
        await output.WriteLineAsync($"Features read as of each prediction: {List(report.FeaturesAsOf)}");
        await output.WriteLineAsync("Fell back to defaults: " + (report.Degraded.Count == 0 ? "nothing"
            : string.Join(", ", report.Degraded.OrderByDescending(d => d.Value).Select(d => $"{d.Key} {d.Value} ({Percent((double)d.Value / report.Requests)})"))));
        await output.WriteLineAsync();

        var s = report.Comparison;
        await output.WriteLineAsync("Against the champion, on the same requests (as ShadowScore pairs a shadow; AGREE at the candidate's threshold, Δ = candidate − champion):");
        await TextTable.WriteAsync(output, ["SAMPLES", "ERRORS", "PAIRS", "AGREE", "MEAN Δ", "MEAN |Δ|", "MAX |Δ|", "PSI", "SPEARMAN", "P50 MS", "P99 MS"],
        [
            [I(s.Samples), I(s.Errors), I(s.Pairs), Percent(s.Agreement), N(report.MeanDelta), N(report.MeanAbsoluteDelta), N(report.MaxAbsoluteDelta), N(s.PredictionPsi), N(s.RankCorrelation), N(s.P50LatencyMs), N(s.P99LatencyMs)],
        ]);
        if (report.Candidate is not { } mine || report.Champion is not { } theirs)
        {
            await output.WriteLineAsync();
            await output.WriteLineAsync("No outcomes were posted for these requests: no metrics (POST /api/outcomes).");
            return;
        }

        var metric = candidate.Manifest.PromotionMetric ?? "logloss";
        await output.WriteLineAsync();
        await output.WriteLineAsync($"Outcomes on {mine.Metrics.Count} labelled requests (PAIRED = champion {metric} − candidate's, on the same requests; positive: the candidate is better):");
        await TextTable.WriteAsync(output, ["MODEL", "N", "LOGLOSS", "BRIER", "AUC", "PRECISION", "RECALL", "ACCURACY", "MAE", "RMSE", "PAIRED"],
            new[] { ("champion " + theirs.Version, theirs), ("candidate", mine) }.Select(m => new[]
            {
                m.Item1, I(m.Item2.Metrics.Count), N(m.Item2.Metrics.LogLoss), N(m.Item2.Metrics.Brier), N(m.Item2.Metrics.Auc), N(m.Item2.Metrics.Precision),
                N(m.Item2.Metrics.Recall), N(m.Item2.Metrics.Accuracy), N(m.Item2.Metrics.Mae), N(m.Item2.Metrics.Rmse),
                m.Item2.Paired is { } p ? $"{N(p.Difference)} ± {N(p.StandardError)}" : "",
            }));
    }

    private static string Line(ReplayedRow replayed)
    {
        var row = replayed.Row.Row;
        var e = row.Row.Entry;
        return string.Join(",",
            e.PredictionId,
            e.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            e.Version.Contains(',', StringComparison.Ordinal) ? $"\"{e.Version}\"" : e.Version,
            e.Scores.Length > 0 ? F(e.Scores[0]) : "",
            replayed.Scores.Length > 0 ? F(replayed.Scores[0]) : "",
            row.Label?.ToString("R", CultureInfo.InvariantCulture) ?? "",
            string.Join(';', replayed.Row.Degraded));
    }

    private static string List(IReadOnlyList<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    private static string F(float f) => f.ToString("R", CultureInfo.InvariantCulture);

    private static string I(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string N(double d) => double.IsNaN(d) ? "" : d.ToString("0.####", CultureInfo.InvariantCulture);

    private static string N(double? d) => d is { } v ? N(v) : "";

    private static string Percent(double d) => double.IsNaN(d) ? "" : (d * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z";
}
