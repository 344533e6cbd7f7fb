using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Local;
using DarkShip.Serving.Export;
using DarkShip.Serving.Features;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Models;
using DarkShip.Serving.Registry;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// The model log's promise, end to end on Azurite: traffic through the local runner, outcomes posted,
/// a training set exported with a new feature read point-in-time, a model trained on it with real
/// XGBoost (the committed fixture script), registered, and replayed on the same traffic. The new
/// feature's group gets a newer snapshot after the traffic: the export and the replay must both use
/// the one that was true at each prediction.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RoundTripTests(AzuriteFixture azurite) : IDisposable
{
    private const int Requests = 400;
    private static readonly string[] Categories = ["grocery", "electronics", "travel", "gaming"];
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("darkship-roundtrip");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public async Task Served_traffic_exports_trains_registers_and_replays_with_the_features_as_they_were()
    {
        var model = "fraud" + Guid.NewGuid().ToString("N")[..8];
        var device = "dev" + Guid.NewGuid().ToString("N")[..8];
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var models = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, output, error);
        var actor = new LadderActor("it@test", "round trip");
        Assert.Equal(0, await models.RegisterAsync(model, DemoSystem.Model("fraud"), DemoSystem.Manifest(model, "fraud"), "1", actor, CancellationToken.None));
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Promote(model, "1"), actor, CancellationToken.None));

        // A feature the champion does not read: its value before the traffic, and a newer one written after it.
        var store = account.FeatureStore();
        await store.PrepareGroupAsync(new FeatureGroupSchema(device, new Dictionary<string, FeatureType> { ["risk"] = FeatureType.Number }));
        var before = DateTimeOffset.UtcNow.AddDays(-1);
        await WriteRiskAsync(store, device, before, k => (k % 10) / 10.0);

        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        var sent = new Dictionary<string, (int Consumer, int Store, int Device, int Amount, int Hour, float Score)>(StringComparer.Ordinal);
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string>
        {
            ["JoinOutcomesSchedule"] = "*/2 * * * * *",
            ["Serving__FeatureBudgetMilliseconds"] = "10000", // every row read, even on a cold Azurite: what was served is then known from what was stored
        });
        await using (var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None))
        {
            using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
            var random = new Random(11);
            for (var batch = 0; batch < Requests / 100; batch++)
            {
                var requests = Enumerable.Range(batch * 100, 100).Select(i => (Consumer: (i * 7 % 2000) + 1, Store: (i % 200) + 1, Device: i % 50, Amount: 5 + (i * 13 % 900), Hour: i % 24)).ToArray();
                using var response = await client.PostAsJsonAsync($"/api/predict/{model}/batch", new
                {
                    rows = requests.Select(r => new
                    {
                        entities = new Dictionary<string, string> { ["consumer"] = $"c{r.Consumer}", ["store"] = $"s{r.Store}", [device] = $"k{r.Device}" },
                        features = new { amount = r.Amount, hour_of_day = r.Hour },
                    }),
                });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var answers = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var predictions = answers.RootElement.GetProperty("predictions").EnumerateArray().ToArray();
                var outcomes = new List<object>();
                for (var i = 0; i < predictions.Length; i++)
                {
                    var id = predictions[i].GetProperty("predictionId").GetString()!;
                    Assert.Equal(0, predictions[i].GetProperty("degraded").GetArrayLength());
                    sent[id] = (requests[i].Consumer, requests[i].Store, requests[i].Device, requests[i].Amount, requests[i].Hour, predictions[i].GetProperty("score").GetSingle());
                    if (i % 3 != 0)
                    {
                        labels[id] = random.NextDouble() < 0.1 + (0.8 * (requests[i].Device % 10) / 10.0) ? 1 : 0; // fraud follows the new feature
                        outcomes.Add(new { predictionId = id, label = labels[id] });
                    }
                }

                using var posted = await client.PostAsJsonAsync("/api/outcomes", new { outcomes });
                Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            }

            // Every prediction logged and every outcome joined (JoinOutcomes catches those that raced the log).
            var exporter = new TrainingSetExporter(account.PredictionLog(), account.Outcomes());
            var range = new ExportRange(model, from, DateTimeOffset.UtcNow.AddMinutes(1), "1", KeepUnlabelled: true);
            for (var attempt = 0; ; attempt++)
            {
                var rows = await exporter.ReadAsync(range, null).ToListAsync();
                if (rows.Count == Requests && rows.Count(r => r.Label is not null) == labels.Count)
                {
                    break;
                }

                Assert.True(attempt < 150, $"{rows.Count} of {Requests} predictions logged, {rows.Count(r => r.Label is not null)} of {labels.Count} labelled");
                await Task.Delay(200);
            }
        }

        var to = DateTimeOffset.UtcNow.AddMinutes(1);
        await WriteRiskAsync(store, device, DateTimeOffset.UtcNow, k => 50 + k); // written after every prediction: must not leak into them

        // Export, with the candidate manifest naming the new feature.
        var manifest = CandidateManifest(model, device);
        var train = new FileInfo(Path.Combine(folder.FullName, "train.csv"));
        var served = new RegisteredManifests(registry, artifacts);
        var pointInTime = new PointInTimeFeatures(store, served, new FeaturePlan(Serving.Manifests.ManifestReader.Parse(File.ReadAllBytes(manifest.FullName))));
        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(account.PredictionLog(), account.Outcomes()), new ExportRange(model, from, to, "1", KeepUnlabelled: true), "csv", train, false, error, CancellationToken.None, pointInTime));

        var exported = DemoSystem.Csv(train);
        Assert.Equal(Requests, exported.Count);
        foreach (var row in exported)
        {
            var request = sent[row["prediction_id"]];
            var consumer = DemoSystem.LatestRow("consumer.csv", $"c{request.Consumer}");
            var shop = DemoSystem.LatestRow("store.csv", $"s{request.Store}");
            // What was served, derived from what the test sent and ingested, to the byte: the float32 text of each value.
            Assert.Equal(T(request.Amount), row["amount"]);
            Assert.Equal(T(request.Hour), row["hour_of_day"]);
            Assert.Equal(T(P(consumer["txn_count_7d"])), row["txn_count_7d"]);
            Assert.Equal(T(P(consumer["avg_amount_30d"])), row["avg_amount_30d"]);
            Assert.Equal(T(P(consumer["account_age_days"])), row["account_age_days"]);
            Assert.Equal(consumer["is_verified"] == "true" ? "1" : "0", row["is_verified"]);
            Assert.Equal(T(P(shop["chargeback_rate_90d"])), row["store_chargeback_rate_90d"]);
            Assert.Equal(T(Array.IndexOf(Categories, shop["category"])), row["store_category"]);
            Assert.Equal(request.Score, float.Parse(row["score"], CultureInfo.InvariantCulture)); // the score the caller got
            Assert.Equal(T((request.Device % 10) / 10.0), row["device_risk"]); // as of the prediction: not the later write
            Assert.Equal(labels.TryGetValue(row["prediction_id"], out var label) ? T(label) : "", row["label"]);
        }

        // JSONL carries the added feature beside the served ones.
        var jsonl = new FileInfo(Path.Combine(folder.FullName, "train.jsonl"));
        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(account.PredictionLog(), account.Outcomes()), new ExportRange(model, from, to, "1", KeepUnlabelled: true), "jsonl", jsonl, false, error, CancellationToken.None, pointInTime));
        var csvRisk = exported.ToDictionary(r => r["prediction_id"], r => r["device_risk"]);
        foreach (var line in File.ReadLines(jsonl.FullName))
        {
            using var row = JsonDocument.Parse(line);
            var added = row.RootElement.GetProperty("pointInTimeFeatures");
            Assert.Equal(["device_risk"], added.EnumerateObject().Select(p => p.Name));
            Assert.Equal(csvRisk[row.RootElement.GetProperty("predictionId").GetString()!], added.GetProperty("device_risk").GetRawText());
            Assert.False(row.RootElement.GetProperty("features").TryGetProperty("device_risk", out _));
        }

        // Parquet carries it too, typed, with the category as its label, read back by DuckDB.
        var parquet = new FileInfo(Path.Combine(folder.FullName, "train.parquet"));
        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(account.PredictionLog(), account.Outcomes()), new ExportRange(model, from, to, "1", KeepUnlabelled: true), "parquet", parquet, false, error, CancellationToken.None, pointInTime, served));
        var csvRows = exported.ToDictionary(r => r["prediction_id"]);
        using (var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:"))
        {
            duck.Open();
            using var query = duck.CreateCommand();
            query.CommandText = $"SELECT prediction_id, device_risk, store_category, typeof(device_risk), typeof(store_category) FROM read_parquet('{parquet.FullName}')";
            using var reader = query.ExecuteReader();
            var read = 0;
            while (reader.Read())
            {
                var row = csvRows[reader.GetString(0)];
                Assert.Equal(float.Parse(row["device_risk"], CultureInfo.InvariantCulture), reader.GetFloat(1));
                Assert.Equal(Categories[int.Parse(row["store_category"], CultureInfo.InvariantCulture)], reader.GetString(2));
                Assert.Equal(("FLOAT", "VARCHAR"), (reader.GetString(3), reader.GetString(4)));
                read++;
            }

            Assert.Equal(Requests, read);
        }

        // Train with real XGBoost, register, replay.
        var candidate = new FileInfo(Path.Combine(folder.FullName, "model.json"));
        var expectedScores = new FileInfo(Path.Combine(folder.FullName, "xgboost-scores.csv"));
        Python(Path.Combine(DemoSystem.Root, "tools", "train_from_export.py"),
            "--input", train.FullName, "--manifest", manifest.FullName, "--output", candidate.FullName, "--predictions", expectedScores.FullName);
        Assert.Equal(0, await models.RegisterAsync(model, candidate, manifest, "2", actor, CancellationToken.None));

        var replayed = new FileInfo(Path.Combine(folder.FullName, "replay.csv"));
        output.GetStringBuilder().Clear();
        var replay = new ReplayCli(account.PredictionLog(), account.Outcomes(), store, served, TimeProvider.System, output, error);
        Assert.Equal(0, await replay.RunAsync(model, candidate, manifest, from, to, replayed, CancellationToken.None));

        var xgboost = DemoSystem.Csv(expectedScores).ToDictionary(r => r["prediction_id"], r => double.Parse(r["score"], CultureInfo.InvariantCulture));
        var rowsReplayed = DemoSystem.Csv(replayed);
        Assert.Equal(exported.Select(r => r["prediction_id"]), rowsReplayed.Select(r => r["prediction_id"]));
        foreach (var row in rowsReplayed)
        {
            // The replay built the candidate's input point-in-time exactly as the export did: XGBoost's own score on the exported row.
            var expected = xgboost[row["prediction_id"]];
            var actual = double.Parse(row["candidate_score"], CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(expected - actual) <= 1e-6, $"{row["prediction_id"]}: XGBoost {expected:R}, replay {actual:R}");
            Assert.Equal(sent[row["prediction_id"]].Score, float.Parse(row["champion_score"], CultureInfo.InvariantCulture));
            Assert.Equal("1", row["champion_version"]);
        }

        var report = output.ToString();
        Assert.Contains($"{Requests} requests, answered by champion version 1 ({Requests})", report, StringComparison.Ordinal);
        Assert.Contains("Features read as of each prediction: device_risk", report, StringComparison.Ordinal);
        Assert.Contains($"Outcomes on {labels.Count} labelled requests", report, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^candidate\s+" + labels.Count + @"\s+0\.\d+", report);
    }

    private static async Task WriteRiskAsync(IFeatureWriter store, string group, DateTimeOffset at, Func<int, double> risk)
    {
        for (var k = 0; k < 50; k++)
        {
            var result = await store.WriteEntityAsync(group, $"k{k}", [new FeatureSnapshot($"k{k}", at, new Dictionary<string, object> { ["risk"] = risk(k) }, k + 2)]);
            Assert.True(result.Succeeded, result.Error);
        }
    }

    /// <summary>The demo champion's manifest under <paramref name="model"/>, plus <c>device_risk</c> from <paramref name="group"/>.</summary>
    private FileInfo CandidateManifest(string model, string group)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(DemoSystem.Manifest(model, "fraud").FullName))!.AsObject();
        manifest["groups"]![group] = new JsonObject { ["required"] = false, ["cacheSeconds"] = 0 };
        manifest["features"]!.AsArray().Add(new JsonObject { ["name"] = "device_risk", ["group"] = group, ["property"] = "risk", ["type"] = "number", ["min"] = 0, ["max"] = 100 });
        manifest.Remove("baseline"); // the champion's training baseline does not describe the candidate
        var file = new FileInfo(Path.Combine(folder.FullName, "candidate-manifest.json"));
        File.WriteAllText(file.FullName, manifest.ToJsonString());
        return file;
    }

    private static void Python(string script, params string[] arguments)
    {
        // Debian's python3-xgboost lives beside /usr/bin/python3, which a pyenv or venv on the PATH may hide; DARKSHIP_PYTHON overrides.
        var python = Environment.GetEnvironmentVariable("DARKSHIP_PYTHON") ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{python} {Path.GetFileName(script)} failed ({process.ExitCode}); it needs numpy and xgboost (Debian: python3-xgboost, which test.sh installs):\n{stdout.Result}\n{stderr}");
    }

    private static float P(string text) => float.Parse(text, CultureInfo.InvariantCulture);

    private static string T(double value) => ((float)value).ToString("R", CultureInfo.InvariantCulture);
}
