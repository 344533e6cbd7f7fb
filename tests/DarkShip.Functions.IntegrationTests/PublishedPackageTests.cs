using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DarkShip.Scoring.XGBoost;

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
        var port = FreePort();
        var start = new ProcessStartInfo(package.Executable, ["serve"]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = package.Folder };
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AzureWebJobsStorage"] = azurite.ConnectionString;
        start.Environment["MirrorHub__fullyQualifiedNamespace"] = "127.0.0.1:9"; // nothing listens: the mirror's failures must not touch the answers
        start.Environment["Serving__FeatureBudgetMilliseconds"] = "5000"; // this test is about what the trimmer kept, not a cold instance's first read
        using var handler = Process.Start(start)!;
        var log = new StringBuilder();
        handler.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        handler.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        handler.BeginOutputReadLine();
        handler.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
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

            Assert.True(ready, "the published handler never became ready:\n" + log);
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

            using var invocation = await client.PostAsync("/DriftMonitor", new StringContent("""{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, invocation.StatusCode);
            Assert.Contains("DriftMonitor", await invocation.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            handler.Kill(entireProcessTree: true);
            await handler.WaitForExitAsync();
        }
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
