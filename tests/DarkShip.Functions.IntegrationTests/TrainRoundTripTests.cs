using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Local;
using DarkShip.Scoring;
using DarkShip.Scoring.MLNet;
using DarkShip.Serving.Export;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// One CLI from logged traffic to a promoted challenger of another format, on Azurite through the local
/// runner: an XGBoost champion serves traffic, outcomes are posted, <c>darkship export</c> writes the
/// training set, <c>darkship train</c> trains an ML.NET model on it, <c>models register</c> takes it,
/// it shadows the XGBoost champion on live traffic (ShadowScore scoring it through ML.NET), and once
/// promoted it answers predictions with what ML.NET gives for the row DarkShip assembled.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TrainRoundTripTests(AzuriteFixture azurite) : IDisposable
{
    private const int Requests = 1000;
    private static readonly string[] Categories = ["grocery", "electronics", "travel", "gaming"];
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("darkship-train");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public async Task Exported_traffic_trains_an_MLNet_challenger_that_registers_shadows_the_XGBoost_champion_and_is_promoted()
    {
        var model = "fraud" + Guid.NewGuid().ToString("N")[..8];
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var models = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, output, error);
        var actor = new LadderActor("it@test", "train round trip");
        Assert.Equal(0, await models.RegisterAsync(model, DemoSystem.Model("fraud"), DemoSystem.Manifest(model, "fraud"), "1", actor, CancellationToken.None));
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Promote(model, "1"), actor, CancellationToken.None));

        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string>
        {
            ["JoinOutcomesSchedule"] = "*/2 * * * * *",
            ["Serving__FeatureBudgetMilliseconds"] = "10000",
            ["Serving__ModelRefreshSeconds"] = "1",
            ["DriftMonitorSchedule"] = "*/2 * * * * *",
        });
        await using var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(240));

        // 1. Traffic on the XGBoost champion, and outcomes: fraud follows the amount and the store's category.
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        var random = new Random(5);
        var labelled = 0;
        for (var batch = 0; batch < Requests / 100; batch++)
        {
            var requests = Enumerable.Range(batch * 100, 100).Select(Request).ToArray();
            var predictions = await PredictAsync(client, model, requests, deadline.Token);
            var outcomes = new List<object>();
            for (var i = 0; i < predictions.Length; i++)
            {
                var risky = requests[i].Amount > 600 || Categories[StoreCategory(requests[i].Store)] == "gaming";
                outcomes.Add(new { predictionId = predictions[i].GetProperty("predictionId").GetString(), label = random.NextDouble() < (risky ? 0.8 : 0.1) ? 1 : 0 });
            }

            labelled += outcomes.Count;
            using var posted = await client.PostAsJsonAsync("/api/outcomes", new { outcomes }, deadline.Token);
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }

        var exporter = new TrainingSetExporter(account.PredictionLog(), account.Outcomes());
        var range = new ExportRange(model, from, DateTimeOffset.UtcNow.AddMinutes(1), "1", KeepUnlabelled: true);
        while ((await exporter.ReadAsync(range, null, deadline.Token).ToListAsync(deadline.Token)) is var rows && (rows.Count < Requests || rows.Count(r => r.Label is not null) < labelled))
        {
            await Task.Delay(200, deadline.Token); // the log is written behind the answers, and JoinOutcomes catches outcomes that raced it
        }

        // 2. export → train.
        var train = new FileInfo(Path.Combine(folder.FullName, "train.csv"));
        Assert.Equal(0, await ExportCli.RunAsync(exporter, range, "csv", train, false, error, deadline.Token));
        var challenger = new DirectoryInfo(Path.Combine(folder.FullName, "challenger"));
        output.GetStringBuilder().Clear();
        var trained = await TrainCommand.RunAsync(train, DemoSystem.Manifest(model, "fraud"), TrainerKind.FastTree, "label", 0.2, 7, challenger, output, error, deadline.Token);
        Assert.True(trained == 0, error.ToString());
        var printed = output.ToString();
        Assert.Contains($"trained fasttree on {Requests - (int)Math.Round(Requests * 0.2)} labelled rows; {(int)Math.Round(Requests * 0.2)} held out", printed, StringComparison.Ordinal);
        var auc = double.Parse(System.Text.RegularExpressions.Regex.Match(printed, @"validation: auc (\d\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        // The rule's best possible AUC is about 0.85 (a risky row is fraud 80 % of the time, another 10 %);
        // chance is 0.5, and 200 held-out rows put one standard error near 0.03.
        Assert.True(auc > 0.7, $"the rule is learnt: auc {auc}\n{printed}");
        Assert.Contains($"darkship models register --name {model} --artifact {Path.Combine(challenger.FullName, "model.zip")}", printed, StringComparison.Ordinal);
        var zip = new FileInfo(Path.Combine(challenger.FullName, "model.zip"));
        var manifest = new FileInfo(Path.Combine(challenger.FullName, "manifest.json"));
        var trainedManifest = ManifestReader.Parse(File.ReadAllBytes(manifest.FullName));
        Assert.Equal("mlnet", trainedManifest.Format);
        Assert.Null(trainedManifest.Version);
        Assert.Contains("\"prediction\"", trainedManifest.BaselineJson, StringComparison.Ordinal);

        // Replay: the ML.NET candidate scored offline on the logged traffic, each row as exported.
        var mlnetModel = ModelLoader.Compile(File.ReadAllBytes(zip.FullName), trainedManifest);
        var replayed = new FileInfo(Path.Combine(folder.FullName, "replay.csv"));
        var replay = new ReplayCli(account.PredictionLog(), account.Outcomes(), account.FeatureStore(), new RegisteredManifests(registry, artifacts), TimeProvider.System, output, error);
        Assert.True(0 == await replay.RunAsync(model, zip, manifest, range.From, range.To, replayed, deadline.Token), error.ToString());
        var exportedRows = DemoSystem.Csv(train).ToDictionary(r => r["prediction_id"]);
        var replayRows = DemoSystem.Csv(replayed);
        Assert.Equal(Requests, replayRows.Count);
        var names = trainedManifest.Features.Select(f => f.Name).ToArray();
        foreach (var row in replayRows)
        {
            var exportedRow = exportedRows[row["prediction_id"]];
            var score = new float[1];
            mlnetModel.Predict([.. names.Select(n => exportedRow[n].Length == 0 ? float.NaN : float.Parse(exportedRow[n], CultureInfo.InvariantCulture))], score);
            Assert.Equal(score[0], float.Parse(row["candidate_score"], CultureInfo.InvariantCulture));
        }

        // 3. register (the next version) → shadow at 100 % beside the XGBoost champion.
        Assert.Equal(0, await models.RegisterAsync(model, zip, manifest, null, actor, deadline.Token));
        var registered = (await audit.ReadAsync(model, deadline.Token)).Last();
        Assert.Equal(("register", "2", "mlnet"), (registered.Action, registered.Version, registered.Evidence["format"]));
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Shadow(model, "2", 100), actor, deadline.Token));

        var mlnet = mlnetModel;
        var next = Requests;
        var shadowed = new List<(string Id, (int Consumer, int Store, int Amount, int Hour) Request)>();
        List<Azure.Data.Tables.TableEntity> shadowRows;
        while (true)
        {
            var batch = Enumerable.Range(next, 50).Select(Request).ToArray();
            var answers = await PredictAsync(client, model, batch, deadline.Token);
            shadowed.AddRange(answers.Select((a, i) => (a.GetProperty("predictionId").GetString()!, batch[i])));
            next += 50;
            shadowRows = await account.Table(TablePredictionLog.TableName).QueryAsync<Azure.Data.Tables.TableEntity>(
                Azure.Data.Tables.TableClient.CreateQueryFilter($"Arm eq {"shadow"} and Model eq {model}"), cancellationToken: deadline.Token).Take(20).ToListAsync(deadline.Token);
            if (shadowRows.Count >= 20)
            {
                break;
            }

            await Task.Delay(300, deadline.Token);
        }

        Assert.All(shadowRows, row => Assert.Equal("2", row.GetString("Version")));
        output.GetStringBuilder().Clear();
        Assert.Equal(0, await models.StatusAsync(model, deadline.Token));
        Assert.Matches(@"(?m)^2\s+mlnet\s+Shadow\s+100 %", output.ToString()); // two formats side by side in the status

        // Drift and metrics for the ML.NET shadow: DriftMonitor measures it against its training baseline
        // (the one darkship train wrote), and outcomes on the shadowed requests grade it beside the champion.
        var shadowOutcomes = shadowed.Select(s => new { predictionId = s.Id, label = s.Request.Amount > 600 ? 1 : 0 }).ToList();
        using (var posted = await client.PostAsJsonAsync("/api/outcomes", new { outcomes = shadowOutcomes }, deadline.Token))
        {
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }

        var monitoring = new MonitoringCli(registry, artifacts, account.Drift(), account.Outcomes(), TimeProvider.System, output, error);
        while ((await account.Drift().LatestAsync(model, "2", deadline.Token)).Count == 0)
        {
            await Task.Delay(200, deadline.Token);
        }

        output.GetStringBuilder().Clear();
        Assert.Equal(0, await monitoring.DriftAsync(model, "2", deadline.Token));
        Assert.Contains($"{model} version 2 (Shadow)", output.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"(?m)^amount\s+\w+\s+\d", output.ToString()); // a PSI against the trained baseline, not "no baseline"
        while (true)
        {
            output.GetStringBuilder().Clear();
            Assert.Equal(0, await monitoring.MetricsAsync(model, 1, 1, deadline.Token));
            if (System.Text.RegularExpressions.Regex.IsMatch(output.ToString(), @"(?m)^2\s+Shadow\s+all\s+[1-9]\d*\s+\d"))
            {
                break; // the ML.NET shadow graded on its logged scores, with the champion's on the same requests
            }

            await Task.Delay(300, deadline.Token); // JoinOutcomes catches outcomes that raced the model log
        }

        // 4. an experiment, then promotion: the ML.NET model answers its arm, then everyone, with ML.NET's own score for the row DarkShip assembled.
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Experiment(model, "2", 50), actor, deadline.Token));
        next = await AnsweredByAsync(client, model, mlnet, "2", "experiment", next, deadline.Token);
        Assert.True(0 == await models.MoveAsync(new LadderCommand.Promote(model, "2"), actor, deadline.Token), error.ToString());
        await AnsweredByAsync(client, model, mlnet, "2", "champion", next, deadline.Token, everyRequest: true);
    }

    /// <summary>
    /// Sends requests until <paramref name="version"/> answers as <paramref name="arm"/> (the instance sees a
    /// registry move at its next poll), checks its score is <paramref name="expected"/>'s for the row, and
    /// returns the next request number. With <paramref name="everyRequest"/>, it then must answer ten in a row.
    /// </summary>
    private static async Task<int> AnsweredByAsync(HttpClient client, string model, IModel expected, string version, string arm, int next, CancellationToken cancellationToken, bool everyRequest = false)
    {
        var inARow = 0;
        while (true)
        {
            var request = Request(next++);
            var answer = (await PredictAsync(client, model, [request], cancellationToken))[0];
            if (answer.GetProperty("version").GetString() != version || answer.GetProperty("arm").GetString() != arm)
            {
                Assert.True(inARow == 0, $"after {inARow} answers by version {version}, version {answer.GetProperty("version").GetString()} answered");
                await Task.Delay(100, cancellationToken);
                continue;
            }

            var score = new float[1];
            expected.Predict(Row(request), score);
            Assert.Equal(score[0], answer.GetProperty("score").GetSingle());
            if (!everyRequest || ++inARow == 10)
            {
                return next;
            }
        }
    }

    private static (int Consumer, int Store, int Amount, int Hour) Request(int i) => ((i * 7 % 2000) + 1, (i % 200) + 1, 5 + (i * 37 % 990), i % 24);

    private static int StoreCategory(int store) => Array.IndexOf(Categories, DemoSystem.LatestRow("store.csv", $"s{store}")["category"]);

    /// <summary>The champion manifest's row for a request, from what the test sent and what the demo ingested.</summary>
    private static float[] Row((int Consumer, int Store, int Amount, int Hour) r)
    {
        var consumer = DemoSystem.LatestRow("consumer.csv", $"c{r.Consumer}");
        var shop = DemoSystem.LatestRow("store.csv", $"s{r.Store}");
        return
        [
            r.Amount, r.Hour, P(consumer["txn_count_7d"]), P(consumer["avg_amount_30d"]), P(consumer["account_age_days"]),
            consumer["is_verified"] == "true" ? 1 : 0, P(shop["chargeback_rate_90d"]), StoreCategory(r.Store),
        ];
    }

    private static async Task<JsonElement[]> PredictAsync(HttpClient client, string model, (int Consumer, int Store, int Amount, int Hour)[] requests, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync($"/api/predict/{model}/batch", new
        {
            rows = requests.Select(r => new
            {
                entities = new Dictionary<string, string> { ["consumer"] = $"c{r.Consumer}", ["store"] = $"s{r.Store}" },
                features = new { amount = r.Amount, hour_of_day = r.Hour },
            }),
        }, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answers = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var predictions = answers.RootElement.GetProperty("predictions").EnumerateArray().Select(p => p.Clone()).ToArray();
        Assert.All(predictions, p => Assert.Equal(0, p.GetProperty("degraded").GetArrayLength()));
        return predictions;
    }

    private static float P(string text) => float.Parse(text, CultureInfo.InvariantCulture);
}
