using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Local;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DarkShip.Functions.IntegrationTests;

[Collection(AzuriteCollection.Name)]
public sealed class LocalSystemTests(AzuriteFixture azurite)
{
    private static string Root { get; } = AzuriteFixture.RepositoryRoot();

    private LocalSettings Settings() => new(new Dictionary<string, string>(Definitions.FunctionCatalog.SettingDefaults)
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["MirrorHub__fullyQualifiedNamespace"] = "127.0.0.1:7071", // the runner points it at its own front door
        ["Serving__ModelRefreshSeconds"] = "1",
    });

    [Fact]
    public async Task DemoSeed_ThenPredict_ScoresStoredFeatures_MirrorsTheEvent_AndLogsThePrediction()
    {
        var settings = Settings();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Values.Select(v => KeyValuePair.Create(v.Key.Replace("__", ":", StringComparison.Ordinal), (string?)v.Value))).Build();
        var account = StorageAccount.From(configuration);
        await SeedDemoAsync(account);

        await using var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { entities = new { consumer = "c1", store = "s9" }, features = new { amount = 250, hour_of_day = 3 }, requestId = "it-1" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        var c1 = DemoSystem.LatestRow("consumer.csv", "c1");
        var s9 = DemoSystem.LatestRow("store.csv", "s9");
        string[] categories = ["grocery", "electronics", "travel", "gaming"];
        float[] row =
        [
            250, 3, F(c1["txn_count_7d"]), F(c1["avg_amount_30d"]), F(c1["account_age_days"]), c1["is_verified"] == "true" ? 1 : 0,
            F(s9["chargeback_rate_90d"]), Array.IndexOf(categories, s9["category"]),
        ];
        var expected = new float[1];
        XGBoostModelReader.Load(Path.Combine(Root, "demo", "fraud", "model.json")).Predict(row, expected);
        Assert.Equal(expected[0], root.GetProperty("score").GetSingle());
        Assert.Equal("1", root.GetProperty("version").GetString());
        Assert.Equal(0, root.GetProperty("degraded").GetArrayLength());
        Assert.True(root.GetProperty("featureAgeSeconds").GetProperty("consumer").GetDouble() > 0);

        // The model log row appears once the batch writer has run; the mirror reached the local hub over REST.
        var id = root.GetProperty("predictionId").GetString()!;
        var log = account.Table(TablePredictionLog.TableName);
        var at = Serving.Predictions.PredictionId.TimestampOf(id)!.Value;
        Azure.Data.Tables.TableEntity? logged = null;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((logged = await log.GetOrNullAsync(TablePredictionLog.PartitionKey("fraud", at), TablePredictionLog.RowKey(id, "1"), cancellationToken: deadline.Token)) is null)
        {
            await Task.Delay(50, deadline.Token);
        }

        Assert.Equal(("champion", true, "it-1"), (logged.Get<string>("Arm"), logged.Get<bool>("Served"), logged.Get<string>("RequestId")));
        Assert.Equal(expected[0], (float)logged.Get<double>("Score"));
        var mirror = run.HandlerServices.GetRequiredService<BatchingQueue<MirrorEvent>>();
        while (mirror.Delivered < 1)
        {
            await Task.Delay(50, deadline.Token);
        }

        Assert.Equal((0L, 0L), (mirror.Failed, mirror.Dropped));
    }

    [Fact]
    public async Task DemoSeed_PutsAnMLNetChallengerTrainedOnTheDemoData_InTheShadowBesideTheXGBoostOne()
    {
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        using var output = new StringWriter();
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, output, TextWriter.Null);

        Assert.Equal(0, await cli.StatusAsync("fraud", CancellationToken.None));

        var status = output.ToString();
        Assert.Matches(@"(?m)^2\s+xgboost-json\s+\w+", status);
        Assert.Matches(@"(?m)^3\s+mlnet\s+\w+", status); // the newcomer's first `models status fraud`: two formats
        var register = (await audit.ReadAsync("fraud", CancellationToken.None)).First(e => e.Action == "register" && e.Version == DemoCommand.MLNetVersion);
        Assert.Contains("darkship train (fasttree, seed 7)", register.Reason, StringComparison.Ordinal);
        Assert.Contains((await audit.ReadAsync("fraud", CancellationToken.None)), e => e.Action == "shadow" && e.Version == DemoCommand.MLNetVersion);

        // What was registered is what darkship train writes from the demo's training set with that seed.
        var version = (await registry.ReadAsync(CancellationToken.None)).Of("fraud").Single(v => v.Version == DemoCommand.MLNetVersion);
        Assert.Equal("fraud/3/model.zip", version.ArtifactPath);
        var zip = await artifacts.DownloadAsync(version.ArtifactPath, version.ArtifactSha256, CancellationToken.None);
        var manifest = await artifacts.DownloadAsync(version.ManifestPath, version.ManifestSha256, CancellationToken.None);
        var retrained = new DirectoryInfo(Path.Combine(Path.GetTempPath(), "darkship-demo-train-" + Guid.NewGuid().ToString("N")[..8]));
        try
        {
            Assert.Equal(0, await TrainCommand.RunAsync(new FileInfo(Path.Combine(Root, "demo", "train.csv")), new FileInfo(Path.Combine(Root, "demo", "fraud", "manifest.json")), Scoring.MLNet.TrainerKind.FastTree, "label", 0.2, 7, retrained, TextWriter.Null, TextWriter.Null, CancellationToken.None));
            var (ours, again) = (Serving.Models.ModelLoader.Compile(zip, Serving.Manifests.ManifestReader.Parse(manifest)), Serving.Models.ModelLoader.Compile(File.ReadAllBytes(Path.Combine(retrained.FullName, "model.zip")), Serving.Manifests.ManifestReader.Parse(manifest)));
            var (a, b) = (new float[1], new float[1]);
            foreach (var row in new[] { new[] { 300f, 2, 5, 40, 800, 1, 0.02f, 3 }, [12f, 14, 0, 90, 30, 0, 0.001f, 0], [float.NaN, 23, 9, float.NaN, 2000, 1, 0.1f, float.NaN] })
            {
                ours.Predict(row, a);
                again.Predict(row, b);
                Assert.Equal(b, a);
            }
        }
        finally
        {
            retrained.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task FeaturesIngest_BadRows_WriteNothingUnlessSkipped_AndNameTheLines()
    {
        var group = "g" + Guid.NewGuid().ToString("N")[..10];
        var file = new FileInfo(Path.Combine(Path.GetTempPath(), group + ".csv"));
        await File.WriteAllTextAsync(file.FullName, "id,ts,spend,tier\nu1,2026-11-01T00:00:00Z,1.5,gold\nu2,yesterday,2,silver\nu3,2026-11-02T00:00:00Z,3\n\"u4\",1761955200,4,\"bronze, old\"\n");
        var store = DemoSystem.Account(azurite).FeatureStore();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var refused = await FeaturesCommand.IngestAsync(new IngestOptions(group, file, null, "ts", SkipBadRows: false), store, TimeProvider.System, output, error, CancellationToken.None);

        Assert.Equal(FeaturesCommand.BadInput, refused);
        Assert.Contains("line 3: ts: 'yesterday'", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("line 4: 3 fields; the header has 4", error.ToString(), StringComparison.Ordinal);
        Assert.Null(await store.GetLatestAsync(group, "u1"));

        var written = await FeaturesCommand.IngestAsync(new IngestOptions(group, file, null, "ts", SkipBadRows: true), store, TimeProvider.System, output, error, CancellationToken.None);

        Assert.Equal(0, written);
        Assert.Equal(1.5, (await store.GetLatestAsync(group, "u1"))!.Values["spend"]);
        Assert.Equal("bronze, old", (await store.GetLatestAsync(group, "u4"))!.Values["tier"]);
        Assert.Null(await store.GetLatestAsync(group, "u2"));
        Assert.Contains("Ingested 2 snapshots of 2 entities", output.ToString(), StringComparison.Ordinal);
    }

    private static async Task SeedDemoAsync(StorageAccount account) =>
        Assert.Equal(0, await DemoCommand.SeedAsync(await DemoCommand.StoresAsync(account, CancellationToken.None), new DirectoryInfo(Path.Combine(Root, "demo")), TextWriter.Null, TextWriter.Null, CancellationToken.None));

    private static float F(string text) => float.Parse(text, CultureInfo.InvariantCulture);

}
