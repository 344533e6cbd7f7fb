using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Local;
using DarkShip.Serving.Export;
using DarkShip.Serving.Ladder;
using DarkShip.Storage.Capture;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// Event Hubs Capture as a source, end to end on Azurite: traffic through the local runner (champion and an
/// experiment, so the champion also scores requests it did not serve) is captured by the runner's hub to Avro files
/// in the Capture container; export and replay read from Capture give what they give from the PredictionLog table.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CaptureSourceTests(AzuriteFixture azurite) : IDisposable
{
    private const int Requests = 300;
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("darkship-capture");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public async Task Export_and_replay_from_Capture_agree_with_the_model_log_on_the_same_traffic()
    {
        var model = "fraud" + Guid.NewGuid().ToString("N")[..8];
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var models = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, output, error);
        var actor = new LadderActor("it@test", "capture");
        Assert.Equal(0, await models.RegisterAsync(model, DemoSystem.Model("fraud"), DemoSystem.Manifest(model, "fraud"), "1", actor, CancellationToken.None));
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Promote(model, "1"), actor, CancellationToken.None));
        Assert.Equal(0, await models.RegisterAsync(model, DemoSystem.Model("fraud-challenger"), DemoSystem.Manifest(model, "fraud-challenger"), "2", actor, CancellationToken.None));
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Shadow(model, "2", 100), actor, CancellationToken.None));
        Assert.True(await models.MoveAsync(new LadderCommand.Experiment(model, "2", 50), actor, CancellationToken.None) == 0, error.ToString());

        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string>
        {
            ["Capture__IntervalSeconds"] = "2",
            ["JoinOutcomesSchedule"] = "*/2 * * * * *",
            ["Serving__FeatureBudgetMilliseconds"] = "10000",
        });
        var labelled = 0;
        await using (var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None))
        {
            using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
            for (var batch = 0; batch < Requests / 100; batch++)
            {
                var requests = Enumerable.Range(batch * 100, 100).ToArray();
                using var response = await client.PostAsJsonAsync($"/api/predict/{model}/batch", new
                {
                    rows = requests.Select(i => new
                    {
                        entities = new Dictionary<string, string> { ["consumer"] = $"c{(i * 7 % 2000) + 1}", ["store"] = $"s{(i % 200) + 1}" },
                        features = new { amount = 5 + (i * 13 % 900), hour_of_day = i % 24 },
                    }),
                });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var answers = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var outcomes = answers.RootElement.GetProperty("predictions").EnumerateArray()
                    .Where((_, i) => i % 3 != 0).Select((p, i) => new { predictionId = p.GetProperty("predictionId").GetString(), label = i % 4 == 0 ? 1 : 0 }).ToList();
                labelled += outcomes.Count;
                using var posted = await client.PostAsJsonAsync("/api/outcomes", new { outcomes });
                Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            }

            // Every prediction logged and labelled, and every mirror event taken by the runner's Capture.
            var exporter = new TrainingSetExporter(account.PredictionLog(), account.Outcomes());
            var champion = new ExportRange(model, from, DateTimeOffset.UtcNow.AddMinutes(1), "1", KeepUnlabelled: true);
            for (var attempt = 0; ; attempt++)
            {
                var rows = await exporter.ReadAsync(champion, null).ToListAsync();
                if (rows.Count == Requests && rows.Count(r => r.Label is not null) == labelled && run.Triggers.Capture!.EventsTaken >= Requests)
                {
                    break;
                }

                Assert.True(attempt < 150, $"{rows.Count} of {Requests} logged, {rows.Count(r => r.Label is not null)} of {labelled} labelled, {run.Triggers.Capture!.EventsTaken} captured");
                await Task.Delay(200);
            }
        } // stopping the runner writes the windows still open

        var to = DateTimeOffset.UtcNow.AddMinutes(1);
        var served = new RegisteredManifests(registry, artifacts);
        var report = new CaptureReadReport();
        var capture = new CaptureLogScanner(account.Container(CapturePath.DefaultContainer), CapturePath.Of("127.0.0.1:7071", "mirror"), new MirroredPredictions(served), report);

        foreach (var version in new[] { "1", "2" })
        {
            var fromLog = new FileInfo(Path.Combine(folder.FullName, $"log-{version}.csv"));
            var fromCapture = new FileInfo(Path.Combine(folder.FullName, $"capture-{version}.csv"));
            var range = new ExportRange(model, from, to, version, KeepUnlabelled: true);
            Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(account.PredictionLog(), account.Outcomes()), range, "csv", fromLog, false, error, CancellationToken.None));
            Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(capture, account.Outcomes()), range, "csv", fromCapture, false, error, CancellationToken.None));

            var rows = DemoSystem.Csv(fromLog);
            Assert.True(rows.Count > 20, $"version {version}: {rows.Count} rows");
            Assert.Equal(File.ReadAllText(fromLog.FullName), File.ReadAllText(fromCapture.FullName)); // the same rows, values and labels, in the same order
            if (version == "1")
            {
                Assert.Equal(Requests, rows.Count);
                Assert.Contains(rows, r => r["served"] == "false"); // the champion's own input on requests the experiment served: rebuilt from the mirrored reads
            }
        }

        Assert.False(report.HasProblems, report.ToString());
        Assert.True(report.Files > 0 && report.Events >= Requests, report.ToString());

        // Replay of the challenger on the champion's requests, from either source.
        var candidate = DemoSystem.Model("fraud-challenger");
        var manifest = DemoSystem.Manifest(model, "fraud-challenger");
        var results = new List<(string Report, string Rows)>();
        foreach (var log in new IPredictionLogScanner[] { account.PredictionLog(), capture })
        {
            using var replayOutput = new StringWriter();
            var rowsFile = new FileInfo(Path.Combine(folder.FullName, $"replay-{results.Count}.csv"));
            var replay = new ReplayCli(log, account.Outcomes(), account.FeatureStore(), served, TimeProvider.System, replayOutput, error);
            Assert.True(await replay.RunAsync(model, candidate, manifest, from, to, rowsFile, CancellationToken.None) == 0, error.ToString());
            results.Add((replayOutput.ToString(), File.ReadAllText(rowsFile.FullName)));
        }

        Assert.Equal(results[0].Rows, results[1].Rows);
        Assert.Contains($"{Requests} requests, answered by champion version 1 ({Requests})", results[1].Report, StringComparison.Ordinal);
        var withOutcomes = results.Select(r => r.Report[r.Report.IndexOf("Outcomes on", StringComparison.Ordinal)..]).ToList(); // the latency columns above differ by run
        Assert.Equal(withOutcomes[0], withOutcomes[1]);
    }

    [Fact]
    public async Task The_cli_reads_Capture_with_source_capture_and_says_what_it_read()
    {
        var settingsFile = new FileInfo(Path.Combine(folder.FullName, "local.settings.json"));
        File.WriteAllText(settingsFile.FullName, JsonSerializer.Serialize(new { Values = new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString } }));
        var outputFile = Path.Combine(folder.FullName, "x.csv");
        using var error = new StringWriter();

        var missing = await ExportCommand.Create().Parse(["--model", "m", "--from", "2026-11-01", "--to", "2026-11-02", "--output", outputFile, "--source", "capture", "--container", "nothere" + Guid.NewGuid().ToString("N")[..6], "--settings", settingsFile.FullName])
            .InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = error });
        Assert.Equal(2, missing);
        Assert.Contains("does not exist", error.ToString(), StringComparison.Ordinal);

        var bad = await ExportCommand.Create().Parse(["--model", "m", "--from", "2026-11-01", "--to", "2026-11-02", "--output", outputFile, "--source", "capture", "--capture-path", "only-one-part", "--settings", settingsFile.FullName])
            .InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = error });
        Assert.Equal(2, bad);
        Assert.Contains("--capture-path 'only-one-part' is not NAMESPACE/HUB", error.ToString(), StringComparison.Ordinal);

        error.GetStringBuilder().Clear();
        await DemoSystem.Account(azurite).Container(CapturePath.DefaultContainer).CreateIfNotExistsAsync();
        var code = await ExportCommand.Create().Parse(["--model", "nobody" + Guid.NewGuid().ToString("N")[..6], "--from", "2026-11-01", "--to", "2026-11-01T03:00Z", "--output", outputFile, "--source", "capture", "--capture-path", "local/mirror", "--settings", settingsFile.FullName])
            .InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = error });
        Assert.True(code == 0, error.ToString());
        Assert.Contains("export: read ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Capture files", error.ToString(), StringComparison.Ordinal);
    }
}
