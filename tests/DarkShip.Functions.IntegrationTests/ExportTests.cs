using System.Text.Json;
using DarkShip.Functions.Cli;
using DarkShip.Serving.Export;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>Training-set export from the model log and the outcome tables on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ExportTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("darkship-export");
    private readonly string model = "m" + Guid.NewGuid().ToString("N")[..10];

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public async Task The_export_holds_the_features_as_served_byte_for_byte_with_labels_joined()
    {
        var (log, outcomes, ids) = await SeedAsync(rows: 300);
        var output = new FileInfo(Path.Combine(folder.FullName, "train.jsonl"));

        var code = await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), new ExportRange(model, Start, Start.AddHours(3), "1", KeepUnlabelled: true), "jsonl", output, false, TextWriter.Null, CancellationToken.None);

        Assert.Equal(0, code);
        var lines = File.ReadAllLines(output.FullName);
        Assert.Equal(300, lines.Length); // version 1 only; version 2's rows left out
        var stored = await StoredFeaturesAsync();
        foreach (var line in lines)
        {
            using var row = JsonDocument.Parse(line);
            var id = row.RootElement.GetProperty("predictionId").GetString()!;
            Assert.Equal(stored[id], row.RootElement.GetProperty("features").GetRawText()); // the model log's own text, not a re-rendering
            Assert.Equal(ids.IndexOf(id) % 2 == 0 ? JsonValueKind.Number : JsonValueKind.Null, row.RootElement.GetProperty("label").ValueKind);
        }

        Assert.Equal(ids, lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("predictionId").GetString())); // in prediction-id (time) order
    }

    [Fact]
    public async Task An_interrupted_export_resumes_without_repeating_a_row_and_ends_as_an_uninterrupted_one()
    {
        var (log, outcomes, _) = await SeedAsync(rows: 1700);
        var range = new ExportRange(model, Start, Start.AddHours(3), "1", KeepUnlabelled: false);
        var whole = new FileInfo(Path.Combine(folder.FullName, "whole.csv"));
        var resumed = new FileInfo(Path.Combine(folder.FullName, "resumed.csv"));
        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "csv", whole, false, TextWriter.Null, CancellationToken.None));

        using var stop = new CancellationTokenSource();
        var interrupted = await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "csv", resumed, false, new StopAtFirstCheckpoint(stop), stop.Token);
        Assert.Equal(1, interrupted);
        Assert.True(File.Exists(resumed.FullName + ".checkpoint"));
        File.AppendAllText(resumed.FullName, "a half-written line that the checkpoint does not cover");
        using var progress = new StringWriter();
        Assert.True(await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "csv", resumed, false, progress, CancellationToken.None) == 0, progress.ToString());

        Assert.Contains("resuming after 500 rows", progress.ToString(), StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(whole.FullName), File.ReadAllBytes(resumed.FullName));
        Assert.False(File.Exists(resumed.FullName + ".checkpoint"));
        var lines = File.ReadAllLines(whole.FullName);
        Assert.Equal(1 + 850, lines.Length); // header + the labelled half
        Assert.StartsWith("prediction_id,model,version,arm,served,predicted_at,observed_at,label,score,amount,hour_of_day,segment", lines[0], StringComparison.Ordinal);
        Assert.Equal(lines.Length - 1, lines.Skip(1).Select(l => l.Split(',')[0]).Distinct().Count());
    }

    [Fact]
    public async Task An_existing_output_is_not_overwritten_without_asking()
    {
        var (log, outcomes, _) = await SeedAsync(rows: 4);
        var output = new FileInfo(Path.Combine(folder.FullName, "kept.csv"));
        File.WriteAllText(output.FullName, "precious");
        using var error = new StringWriter();

        var code = await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), new ExportRange(model, Start, Start.AddHours(1), null, true), "csv", output, false, error, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Equal("precious", File.ReadAllText(output.FullName));
        Assert.Contains("--overwrite", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// <paramref name="rows"/> predictions over three hours, each logged for version 1 (served) and
    /// version 2 (shadow), with features including a missing one; every other one labelled.
    /// </summary>
    private async Task<(TablePredictionLog Log, TableOutcomeStore Outcomes, List<string> Ids)> SeedAsync(int rows)
    {
        var account = (await DemoSystem.SeedAsync(azurite)).Account;
        var log = account.PredictionLog();
        var outcomes = account.Outcomes();
        var time = new FakeTimeProvider(Start);
        var entries = new List<PredictionLogEntry>();
        var labels = new List<LabelledPrediction>();
        var ids = new List<string>();
        var random = new Random(3);
        for (var i = 0; i < rows; i++)
        {
            var id = PredictionId.New(time);
            ids.Add(id);
            KeyValuePair<string, float>[] features = [new("amount", (float)(random.NextDouble() * 1000)), new("hour_of_day", i % 24), new("segment", i % 7 == 0 ? float.NaN : 0.1f * (i % 3))];
            foreach (var (version, arm) in new[] { ("1", "champion"), ("2", "shadow") })
            {
                var entry = new PredictionLogEntry(id, model, version, arm, version == "1", time.GetUtcNow(), null, new Dictionary<string, string> { ["consumer"] = $"c{i}" },
                    features, [(float)random.NextDouble()], null, [], 1.5);
                entries.Add(entry);
                if (i % 2 == 0)
                {
                    labels.Add(new LabelledPrediction(new LoggedPrediction(id, model, version, arm, version == "1", entry.Timestamp, entry.Scores), i % 4 == 0 ? 1 : 0, entry.Timestamp.AddDays(9), null, null));
                }
            }

            time.Advance(TimeSpan.FromHours(3.0 / rows));
        }

        await log.WriteAsync(entries, CancellationToken.None);
        await outcomes.SaveLabelsAsync(labels);
        return (log, outcomes, ids);
    }

    private async Task<Dictionary<string, string>> StoredFeaturesAsync()
    {
        var table = azurite.Table(TablePredictionLog.TableName);
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var e in table.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"Model eq {model} and Version eq {"1"}")))
        {
            stored[e.Get<string>("PredictionId")!] = e.Get<string>("Features")!;
        }

        return stored;
    }

    /// <summary>Cancels the export as soon as it reports its first checkpoint.</summary>
    private sealed class StopAtFirstCheckpoint(CancellationTokenSource stop) : StringWriter
    {
        public override Task WriteAsync(string? value)
        {
            if (value?.Contains("rows (", StringComparison.Ordinal) == true)
            {
                stop.Cancel();
            }

            return Task.CompletedTask;
        }
    }
}
