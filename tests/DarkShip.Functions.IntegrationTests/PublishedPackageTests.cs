using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DarkShip.Functions.Hosting;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Registry;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// The package Azure runs: <c>./publish.sh</c> (self-contained, trimmed, ReadyToRun composite), built once
/// for these tests (or taken from <c>DARKSHIP_PACKAGE</c> when set), launched as the host launches it.
/// </summary>
public sealed class PublishedPackage : IAsyncLifetime
{
    public string Folder { get; private set; } = "";

    public string Executable => Path.Combine(Folder, "DarkShip.Functions");

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("DARKSHIP_PACKAGE") is { Length: > 0 } given && File.Exists(Path.Combine(given, "DarkShip.Functions")))
        {
            Folder = given;
            return;
        }

        Folder = Path.Combine(Path.GetTempPath(), "darkship-package-" + Guid.NewGuid().ToString("N")[..8]);
        var (code, output) = await PublishedPackageTests.RunAsync(Path.Combine(AzuriteFixture.RepositoryRoot(), "publish.sh"), [Folder], new Dictionary<string, string>(), TimeSpan.FromMinutes(15));
        Assert.True(code == 0, "publish.sh failed:\n" + output);
    }

    public Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("DARKSHIP_PACKAGE") is not { Length: > 0 })
        {
            Directory.Delete(Folder, recursive: true);
        }

        return Task.CompletedTask;
    }
}

[Collection(AzuriteCollection.Name)]
public sealed class PublishedPackageTests(AzuriteFixture azurite, PublishedPackage package) : IClassFixture<PublishedPackage>
{
    [Fact]
    public async Task Serve_WithoutItsSettings_ExitsWith2_NamingEach()
    {
        var (code, output) = await RunAsync(package.Executable, ["serve"], new Dictionary<string, string> { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture) }, TimeSpan.FromSeconds(60));

        Assert.Equal(2, code);
        Assert.Contains("'AzureWebJobsStorage' is missing", output, StringComparison.Ordinal);
        Assert.Contains("'MirrorHub__fullyQualifiedNamespace' is missing", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_OnAzurite_SeedsReadsFeaturesScoresLogsAndJoinsAnOutcome_AndRunsAnInvocation()
    {
        // Seeded by the package itself: registration, uploads and feature ingest through the trimmed Azure SDK.
        var (seeded, seedOutput) = await RunAsync(package.Executable, ["demo", "seed", "--folder", Path.Combine(DemoSystem.Root, "demo"), "--settings", "/nonexistent"],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString }, TimeSpan.FromMinutes(2));
        Assert.True(seeded == 0, "demo seed failed in the published package:\n" + seedOutput);
        var (handler, log, client) = await ServeAsync(new Dictionary<string, string>
        {
            ["MirrorHub__fullyQualifiedNamespace"] = "127.0.0.1:9", // nothing listens: the mirror's failures must not touch the answers
            ["Serving__FeatureBudgetMilliseconds"] = "5000", // this test is about what the trimmer kept, not a cold instance's first read
            ["Serving__ModelRefreshSeconds"] = "1",
        });
        using var process = handler;
        using var http = client;
        try
        {
            using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { features = new { amount = 250, hour_of_day = 3 } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var expected = new float[1];
            var model = XGBoostModelReader.Load(Path.Combine(DemoSystem.Root, "demo", "fraud", "model.json"));
            var row = new float[model.FeatureCount];
            Array.Fill(row, float.NaN);
            (row[0], row[1]) = (250, 3);
            model.Predict(row, expected);
            Assert.Equal(expected[0], body.RootElement.GetProperty("score").GetSingle());
            Assert.DoesNotContain(MappedAssemblies(handler), a => a.StartsWith("OpenTelemetry", StringComparison.Ordinal) || a.StartsWith("Azure.Monitor", StringComparison.Ordinal)); // no exporter configured

            // Features read from Table Storage by the trimmed SDK, the model log written, the outcome joined to it.
            using var withEntities = await client.PostAsJsonAsync("/api/predict/fraud", new { entities = new { consumer = "c1", store = "s9" }, features = new { amount = 250, hour_of_day = 3 } });
            Assert.Equal(HttpStatusCode.OK, withEntities.StatusCode);
            using var read = JsonDocument.Parse(await withEntities.Content.ReadAsStringAsync());
            Assert.True(read.RootElement.GetProperty("degraded").GetArrayLength() == 0, "features were not read: " + read.RootElement);
            Assert.True(read.RootElement.GetProperty("featureAgeSeconds").TryGetProperty("consumer", out _), "no consumer features: " + read.RootElement);
            var predictionId = read.RootElement.GetProperty("predictionId").GetString();
            string? status = null;
            for (var i = 0; i < 100 && status != "joined"; i++)
            {
                using var outcome = await client.PostAsJsonAsync("/api/outcomes", new { predictionId, label = 1 });
                Assert.Equal(HttpStatusCode.OK, outcome.StatusCode);
                using var outcomeBody = JsonDocument.Parse(await outcome.Content.ReadAsStringAsync());
                status = outcomeBody.RootElement.GetProperty("results")[0].GetProperty("status").GetString();
                if (status != "joined")
                {
                    await Task.Delay(200); // the model log is written in batches
                }
            }

            Assert.True(status == "joined", "the outcome never joined its logged prediction:\n" + log);
            await ExportsTheJoinedPredictionAsParquetAsync(predictionId!);
            await ExportsACapturedPredictionAsync(predictionId!);

            using var invocation = await client.PostAsync("/DriftMonitor", new StringContent("""{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, invocation.StatusCode);
            Assert.Contains("DriftMonitor", await invocation.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // The ML.NET challenger the package's own demo seed trained, scoring a mirrored prediction in ShadowScore.
            await ShadowScoresTheMLNetChallengerAsync(client, predictionId!, log);
            await WritesTheReportAsync();
        }
        finally
        {
            handler.Kill(entireProcessTree: true);
            await handler.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Serve_ExportsMetricsSpansLogsAndExceptionsToAnIngestionEndpoint_AndFlushesThemOnSigterm()
    {
        var (seeded, seedOutput) = await RunAsync(package.Executable, ["demo", "seed", "--folder", Path.Combine(DemoSystem.Root, "demo"), "--settings", "/nonexistent"],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString }, TimeSpan.FromMinutes(2));
        Assert.True(seeded == 0, "demo seed failed in the published package:\n" + seedOutput);
        await using var ingestion = new LoopbackHttpServer(_ => (200, "application/json", "{\"itemsReceived\":0,\"itemsAccepted\":0,\"errors\":[]}"u8.ToArray()));
        var (handler, log, client) = await ServeAsync(new Dictionary<string, string>
        {
            ["MirrorHub__fullyQualifiedNamespace"] = "127.0.0.1:9", // nothing listens: the mirror's loss is the exception logged
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = $"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={ingestion.Url}/;LiveEndpoint={ingestion.Url}/",
            ["APPLICATIONINSIGHTS_STATSBEAT_DISABLED"] = "true", // the exporter's own usage telemetry would leave loopback
            ["OTEL_SERVICE_NAME"] = "darkship-package-test",
        });
        using var process = handler;
        using var http = client;
        try
        {
            using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { features = new { amount = 250, hour_of_day = 3 } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            for (var i = 0; i < 600 && !Logged(log, "items lost"); i++)
            {
                await Task.Delay(100); // the mirror gives the event up after its transport's retries
            }

            Assert.True(Logged(log, "items lost"), "the mirror never gave up its event:\n" + log);
            Assert.Contains("OpenTelemetry.dll", MappedAssemblies(handler)); // what the test without an exporter checks is absent

            // Scale-in: the platform stops the instance with SIGTERM; what was buffered is sent before it exits.
            using (var kill = Process.Start("kill", ["-TERM", handler.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await handler.WaitForExitAsync(exit.Token);
        }
        finally
        {
            if (!handler.HasExited)
            {
                handler.Kill(entireProcessTree: true);
                await handler.WaitForExitAsync();
            }
        }

        var envelopes = ingestion.Requests.Where(r => r.Path.EndsWith("/track", StringComparison.Ordinal))
            .SelectMany(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        IEnumerable<JsonElement> Data(string type) => envelopes.Where(e => e.GetProperty("data").GetProperty("baseType").GetString() == type).Select(e => e.GetProperty("data").GetProperty("baseData"));
        string? Property(JsonElement data, string name) => data.TryGetProperty("properties", out var p) && p.TryGetProperty(name, out var v) ? v.GetString() : null;
        var summary = $"{envelopes.Count} envelopes: {string.Join(", ", envelopes.Select(e => e.GetProperty("data").GetProperty("baseType").GetString()).Distinct())}\n{log}";

        var answers = Data("MetricData").Where(d => d.GetProperty("metrics")[0].GetProperty("name").GetString() == "darkship.predict.answers").ToList();
        Assert.True(answers.Count > 0, "no darkship.predict.answers metric: " + summary);
        Assert.Contains(answers, a => Property(a, "model") == "fraud" && Property(a, "version") is { Length: > 0 } && Property(a, "arm") == "champion");
        Assert.Contains(Data("RemoteDependencyData"), d => d.GetProperty("name").GetString() == "predict");
        var lost = Data("ExceptionData").FirstOrDefault(d => Property(d, "EventName") == "QueueItemsLost");
        Assert.True(lost.ValueKind == JsonValueKind.Object, "no QueueItemsLost exception: " + summary);
        Assert.Equal(("6401", "mirror"), (Property(lost, "EventId"), Property(lost, "Queue")));
        var stopped = Data("MessageData").FirstOrDefault(d => Property(d, "EventName") == "QueueStoppedWithLosses");
        Assert.True(stopped.ValueKind == JsonValueKind.Object, "the shutdown's QueueStoppedWithLosses log was not flushed: " + summary);
        Assert.Equal(("6400", "mirror"), (Property(stopped, "EventId"), Property(stopped, "Queue")));
        Assert.All(envelopes, e => Assert.Equal("darkship-package-test", e.GetProperty("tags").GetProperty("ai.cloud.role").GetString()));
    }

    /// <summary>
    /// Launches the package's <c>serve</c> as the host does (its port in <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>,
    /// Azurite as its storage, <paramref name="environment"/> besides) and waits until it answers its readiness
    /// probe. The caller stops it.
    /// </summary>
    private async Task<(Process Handler, StringBuilder Log, HttpClient Client)> ServeAsync(IReadOnlyDictionary<string, string> environment)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(package.Executable, ["serve"]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = package.Folder };
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AzureWebJobsStorage"] = azurite.ConnectionString;
        foreach (var (name, value) in RuntimeSettings.AppSettings.Concat(environment)) // the runtime settings Azure starts it with, then the test's
        {
            start.Environment[name] = value;
        }

        var handler = Process.Start(start)!;
        var log = new StringBuilder();
        handler.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        handler.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        handler.BeginOutputReadLine();
        handler.BeginErrorReadLine();
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var ready = false;
        for (var i = 0; i < 600 && !ready && !handler.HasExited; i++)
        {
            try
            {
                using var probe = await client.GetAsync("/");
                ready = probe.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
            }

            if (!ready)
            {
                await Task.Delay(50);
            }
        }

        if (!ready)
        {
            handler.Kill(entireProcessTree: true);
            Assert.Fail("the published handler never became ready:\n" + log);
        }

        return (handler, log, client);
    }

    /// <summary>The assembly files the process has mapped, i.e. loaded (Linux: <c>/proc/PID/maps</c>).</summary>
    private static HashSet<string> MappedAssemblies(Process process) =>
        File.ReadLines($"/proc/{process.Id}/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length == 6 && f[5].EndsWith(".dll", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f[5])).ToHashSet(StringComparer.Ordinal);

    private static bool Logged(StringBuilder log, string text)
    {
        lock (log)
        {
            return log.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Score_MLNetAndOnnxModels_AndTrain_InThePublishedPackage()
    {
        var fixtures = Path.Combine(DemoSystem.Root, "tests", "DarkShip.Scoring.Tests", "Fixtures");
        var folder = Directory.CreateTempSubdirectory("darkship-package-formats");
        try
        {
            foreach (var (model, cases, expectedKey) in new[] { (Path.Combine("mlnet", "binary_fasttree"), "model.zip", "predictions"), (Path.Combine("onnx", "binary_logistic"), "model.onnx", "transformed") })
            {
                using var fixture = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixtures, model, "cases.json")));
                var rows = Path.Combine(folder.FullName, "rows.jsonl");
                File.WriteAllLines(rows, fixture.RootElement.TryGetProperty("inputs", out var inputs)
                    ? fixture.RootElement.GetProperty("rows").EnumerateArray().Select(r => ObjectRow(inputs, r)) // ML.NET: by input name, the category as its label
                    : fixture.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetRawText()));
                var output = Path.Combine(folder.FullName, "out.jsonl");

                var (code, text) = await RunAsync(package.Executable, ["score", "--model", Path.Combine(fixtures, model, cases), "--input", rows, "--output", output], new Dictionary<string, string>(), TimeSpan.FromMinutes(1));

                Assert.True(code == 0, $"score {model} failed in the published package:\n{text}");
                var expected = fixture.RootElement.GetProperty(expectedKey).EnumerateArray().Select(p => p[0].ValueKind == JsonValueKind.Null ? double.NaN : p[0].GetDouble()).ToArray();
                var actual = File.ReadAllLines(output).Select(l => l == "null" ? double.NaN : double.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                Assert.Equal(expected.Length, actual.Length);
                for (var i = 0; i < expected.Length; i++)
                {
                    Assert.True(double.IsNaN(expected[i]) ? double.IsNaN(actual[i]) : Math.Abs(expected[i] - actual[i]) <= 2e-6 + (2e-6 * Math.Abs(expected[i])), $"{model} row {i}: {expected[i]} vs {actual[i]} in the published package");
                }
            }

            var trained = Path.Combine(folder.FullName, "trained");
            var (trainCode, trainText) = await RunAsync(package.Executable, ["train", "--input", Path.Combine(DemoSystem.Root, "demo", "train.csv"), "--manifest", Path.Combine(DemoSystem.Root, "demo", "fraud", "manifest.json"), "--trainer", "lightgbm", "--output", trained], new Dictionary<string, string>(), TimeSpan.FromMinutes(2));
            Assert.True(trainCode == 0, "train failed in the published package:\n" + trainText);
            Assert.Matches(@"validation: auc 0\.\d{4}", trainText);
            var check = await new Serving.Models.ModelLoader(new DarkShip.Testing.InMemoryFeatureStore()).CheckAsync(File.ReadAllBytes(Path.Combine(trained, "model.zip")), File.ReadAllBytes(Path.Combine(trained, "manifest.json")), "fraud", CancellationToken.None);
            Assert.Equal(Serving.Models.ModelFormat.MLNet, check.Format);
            Assert.NotNull(check.Model);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// <c>export --format parquet</c> by the package (Parquet.Net through the trimmer, the category's label from the
    /// registered manifest): the prediction <paramref name="predictionId"/> with its label, read back by DuckDB.
    /// </summary>
    private async Task ExportsTheJoinedPredictionAsParquetAsync(string predictionId)
    {
        var output = Path.Combine(Path.GetTempPath(), $"darkship-package-{Guid.NewGuid():N}.parquet");
        try
        {
            var now = DateTimeOffset.UtcNow;
            var (code, text) = await RunAsync(package.Executable,
                ["export", "--model", "fraud", "--version", "1", "--from", now.AddHours(-1).ToString("O"), "--to", now.AddMinutes(5).ToString("O"), "--format", "parquet", "--output", output, "--settings", "/nonexistent"],
                new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString }, TimeSpan.FromMinutes(1));
            Assert.True(code == 0, "export --format parquet failed in the published package:\n" + text);

            using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT label, store_category, typeof(store_category), amount FROM read_parquet('{output}') WHERE prediction_id = '{predictionId}'";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read(), "the joined prediction is not in the export:\n" + text);
            Assert.Equal(1.0, reader.GetDouble(0));
            Assert.Equal(DemoSystem.LatestRow("store.csv", "s9")["category"], reader.GetString(1));
            Assert.Equal("VARCHAR", reader.GetString(2));
            Assert.Equal(250f, reader.GetFloat(3));
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>
    /// <c>export --source capture</c> by the package (Apache.Avro through the trimmer): a Capture file holding the
    /// mirror event of <paramref name="predictionId"/> is read back as its model-log row, with its outcome joined.
    /// </summary>
    /// <summary>
    /// <c>darkship report</c> from the trimmed package: the page with its charts, each drawn by OxyPlot and parsed back as XML
    /// here, so a trimmed-away chart type cannot land.
    /// </summary>
    private async Task WritesTheReportAsync()
    {
        var file = Path.Combine(Path.GetTempPath(), $"darkship-report-{Guid.NewGuid():N}.html");
        try
        {
            var (code, text) = await RunAsync(package.Executable, ["report", "fraud", "--output", file, "--settings", "/nonexistent"],
                new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString }, TimeSpan.FromMinutes(2));
            Assert.True(code == 0, "report failed in the published package:\n" + text);
            Assert.Matches(@"  v\S+ is the champion \(since ", text);
            var html = await File.ReadAllTextAsync(file);
            var charts = System.Text.RegularExpressions.Regex.Matches(html, "<figure class=\"chart ([a-z-]+)\" id=\"[a-z0-9]+\">(<svg.*?</svg>)</figure>", System.Text.RegularExpressions.RegexOptions.Singleline);
            Assert.Contains(charts, c => c.Groups[1].Value == "overlaid");
            Assert.Contains(charts, c => c.Groups[1].Value == "drift-strip");
            Assert.All(charts, c => Assert.True(System.Xml.Linq.XElement.Parse(c.Groups[2].Value).Descendants().Count() > 10, c.Groups[1].Value));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task ExportsACapturedPredictionAsync(string predictionId)
    {
        var at = Serving.Predictions.PredictionId.TimestampOf(predictionId)!.Value;
        var mirrored = new Serving.Mirror.MirrorEvent(predictionId, "fraud", at, null, new Dictionary<string, string> { ["consumer"] = "c1" }, "c1",
            new Dictionary<string, Serving.Mirror.MirroredGroup>(), new Dictionary<string, object> { ["amount"] = 250.0 },
            [new("amount", 250f), new("hour_of_day", 3f)], [], [new Serving.Mirror.MirroredOutput("1", "champion", [0.25f], null, Served: true)], 1, 2);
        var path = new Storage.Capture.CapturePath("pkg" + Guid.NewGuid().ToString("N")[..8], "mirror");
        var container = DemoSystem.Account(azurite).Container(Storage.Capture.CapturePath.DefaultContainer);
        await container.CreateIfNotExistsAsync();
        using (var file = new MemoryStream())
        {
            Storage.Capture.CaptureFile.Write(file, [new Storage.Capture.CapturedEvent(0, "0", at.AddSeconds(1), Serving.Mirror.MirrorEventJson.Serialize(mirrored), "c1")]);
            file.Position = 0;
            await container.GetBlobClient(path.BlobName("0", at)).UploadAsync(file);
        }

        var output = Path.Combine(Path.GetTempPath(), $"darkship-package-{Guid.NewGuid():N}.csv");
        try
        {
            var (code, text) = await RunAsync(package.Executable,
                ["export", "--model", "fraud", "--version", "1", "--from", at.AddMinutes(-1).ToString("O"), "--to", at.AddMinutes(1).ToString("O"), "--output", output,
                 "--source", "capture", "--capture-path", $"{path.Namespace}/{path.EventHub}", "--settings", "/nonexistent"],
                new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString }, TimeSpan.FromMinutes(1));
            Assert.True(code == 0, "export --source capture failed in the published package:\n" + text);
            Assert.Contains("read 1 Capture files, 1 events; unreadable: 0 files, 0 blocks, 0 events", text, StringComparison.Ordinal);
            var row = Assert.Single(DemoSystem.Csv(new FileInfo(output)));
            Assert.Equal((predictionId, "1", "0.25", "250", "3"), (row["prediction_id"], row["label"], row["score"], row["amount"], row["hour_of_day"]));
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>A fixture row (codes in the signature's labels) as a JSON object keyed by input name, categories as text.</summary>
    private static string ObjectRow(JsonElement inputs, JsonElement row)
    {
        var cells = new System.Text.Json.Nodes.JsonObject();
        var i = 0;
        foreach (var value in row.EnumerateArray())
        {
            var input = inputs[i++];
            cells[input.GetProperty("name").GetString()!] = value.ValueKind == JsonValueKind.Null ? null
                : input.TryGetProperty("categories", out var labels) ? labels[value.GetInt32()].GetString()
                : System.Text.Json.Nodes.JsonValue.Create(value.GetDouble());
        }

        return cells.ToJsonString();
    }

    /// <summary>
    /// Puts the demo's ML.NET challenger (version 3) in the shadow at 100 % with the package's CLI, sends the
    /// handler a ShadowScore invocation as the host would for the prediction <paramref name="predictionId"/>
    /// (entities c1 and s9, amount 250, hour 3), and finds the challenger's score in the model log: ML.NET's
    /// own score for the row.
    /// </summary>
    private async Task ShadowScoresTheMLNetChallengerAsync(HttpClient client, string predictionId, StringBuilder log)
    {
        var (moved, moveOutput) = await RunAsync(package.Executable, ["models", "shadow", "fraud", "3", "--share", "100", "--settings", "/nonexistent"],
            new Dictionary<string, string> { ["AzureWebJobsStorage"] = azurite.ConnectionString }, TimeSpan.FromMinutes(1));
        Assert.True(moved == 0 || moveOutput.Contains("already", StringComparison.Ordinal), moveOutput);

        var consumer = DemoSystem.LatestRow("consumer.csv", "c1");
        var shop = DemoSystem.LatestRow("store.csv", "s9");
        double P(string text) => double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        var asOf = DateTimeOffset.Parse(consumer["ts"], System.Globalization.CultureInfo.InvariantCulture);
        var mirrored = new Serving.Mirror.MirrorEvent(
            predictionId, "fraud", DateTimeOffset.UtcNow, null,
            new Dictionary<string, string> { ["consumer"] = "c1", ["store"] = "s9" }, "c1",
            new Dictionary<string, Serving.Mirror.MirroredGroup>
            {
                ["consumer"] = new("found", asOf, 1, new Dictionary<string, object> { ["txn_count_7d"] = P(consumer["txn_count_7d"]), ["avg_amount_30d"] = P(consumer["avg_amount_30d"]), ["account_age_days"] = P(consumer["account_age_days"]), ["is_verified"] = consumer["is_verified"] == "true" }),
                ["store"] = new("found", asOf, 1, new Dictionary<string, object> { ["chargeback_rate_90d"] = P(shop["chargeback_rate_90d"]), ["category"] = shop["category"] }),
            },
            new Dictionary<string, object> { ["amount"] = 250.0, ["hour_of_day"] = 3.0 },
            [], [], [new Serving.Mirror.MirroredOutput("1", "champion", [0.1f], null, Served: true)], 1, 2);
        var events = JsonSerializer.Serialize(new[] { Encoding.UTF8.GetString(Serving.Mirror.MirrorEventJson.Serialize(mirrored)) });
        var payload = JsonSerializer.Serialize(new { Data = new { events }, Metadata = new { SequenceNumberArray = "[1]", PartitionContext = "{\"PartitionId\":\"0\"}" } });

        string? answer = null;
        for (var i = 0; i < 100 && answer?.Contains(", 0 shadow scores", StringComparison.Ordinal) != false; i++)
        {
            await Task.Delay(answer is null ? 0 : 200); // until the handler's registry poll has loaded version 3 at 100 %
            using var response = await client.PostAsync("/ShadowScore", new StringContent(payload, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + "\n" + log);
            answer = await response.Content.ReadAsStringAsync();
        }

        Assert.Contains(", 0 shadow failures", answer, StringComparison.Ordinal);
        Assert.DoesNotContain(", 0 shadow scores", answer, StringComparison.Ordinal);

        var account = DemoSystem.Account(azurite);
        var (registry, artifacts, _) = await account.PrepareAsync(CancellationToken.None);
        var version = (await registry.ReadAsync(CancellationToken.None)).Of("fraud").Single(v => v.Version == "3");
        var manifest = Serving.Manifests.ManifestReader.Parse(await artifacts.DownloadAsync(version.ManifestPath, version.ManifestSha256, CancellationToken.None));
        Assert.Equal("mlnet", manifest.Format);
        var model = Serving.Models.ModelLoader.Compile(await artifacts.DownloadAsync(version.ArtifactPath, version.ArtifactSha256, CancellationToken.None), manifest);
        var expected = new float[1];
        model.Predict([250, 3, (float)P(consumer["txn_count_7d"]), (float)P(consumer["avg_amount_30d"]), (float)P(consumer["account_age_days"]), consumer["is_verified"] == "true" ? 1 : 0, (float)P(shop["chargeback_rate_90d"]), Array.IndexOf(["grocery", "electronics", "travel", "gaming"], shop["category"])], expected);

        IReadOnlyList<Serving.Outcomes.LoggedPrediction> logged = [];
        for (var i = 0; i < 100 && !logged.Any(l => l.Version == "3"); i++)
        {
            await Task.Delay(i == 0 ? 0 : 200); // the model log is written in batches
            logged = await account.PredictionLog().FindLoggedAsync(predictionId, CancellationToken.None);
        }

        var shadow = Assert.Single(logged, l => l.Version == "3");
        Assert.Equal(expected[0], shadow.Scores[0]);
    }

    internal static async Task<(int Code, string Output)> RunAsync(string file, string[] args, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var name in new[] { "AzureWebJobsStorage", "MirrorHub__fullyQualifiedNamespace" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout}\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
