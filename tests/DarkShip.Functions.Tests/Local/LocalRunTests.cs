using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Local;
using DarkShip.Serving.Features;

namespace DarkShip.Functions.Tests.Local;

/// <summary>The whole local system in one process: front door, real handler, hub consumer and timers.</summary>
public sealed class LocalRunTests : IAsyncLifetime
{
    private readonly InMemoryMonitoringStore monitoring = new();
    private LocalRun? run;
    private HttpClient? client;

    public async Task InitializeAsync()
    {
        // The handler over empty in-memory stores, with the real local mirror hub (the Azurite-backed run is in the integration tests).
        var sample = LocalSettings.Load(Path.Combine(TestPaths.RepoRoot, "local.settings.sample.json"));
        run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), sample, CancellationToken.None,
            services => services.AddInMemoryStores(new InMemoryFeatureStore(), new InMemoryModelRegistry(), monitoring));
        client = new HttpClient { BaseAddress = new Uri(run.Url) };
    }

    public async Task DisposeAsync()
    {
        client!.Dispose();
        await run!.DisposeAsync();
    }

    [Fact]
    public async Task Predict_UnknownModel_IsProxiedToTheHandler_AndAnswersProblem404()
    {
        using var response = await client!.PostAsJsonAsync("/api/predict/fraud", new { entities = new { consumer = "c1" } });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("fraud", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/predict/fraud")]
    [InlineData("/api/predict/fraud/batch")]
    public async Task Predict_ABodyOverTheLimit_Is413ProblemJson_ThroughTheFrontDoor(string path)
    {
        using var content = new StringContent("{\"features\":{\"amount\":\"" + new string('x', 6 * 1024 * 1024) + "\"}}", Encoding.UTF8, "application/json");

        using var response = await client!.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Predict_ANulInTheModelName_IsKestrelsOwnBareProtocol400()
    {
        // %00 in the path is refused by Kestrel while parsing the request line, before any code of ours
        // runs, so nothing of DarkShip's can shape the answer: a 400 with an empty body.
        using var response = await client!.PostAsync("/api/predict/%00", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Predict_ABodyTrickledBelowKestrelsMinimumRate_Is408_AndTheRunnerStaysHealthy()
    {
        var url = new Uri(run!.Url);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /api/predict/fraud HTTP/1.1\r\nHost: {url.Authority}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{{"));
        var reply = new StringBuilder();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var read = stream.ReadAsync(buffer, deadline.Token).AsTask();
        while (!read.IsCompleted)
        {
            await stream.WriteAsync(" "u8.ToArray(), deadline.Token); // 4 bytes a second: far below 240 B/s once the 5 s grace is over
            await Task.WhenAny(read, Task.Delay(250, deadline.Token));
        }

        reply.Append(Encoding.ASCII.GetString(buffer, 0, await read));

        Assert.StartsWith("HTTP/1.1 408", reply.ToString(), StringComparison.Ordinal);
        using var after = await client!.PostAsJsonAsync("/api/predict/fraud", new { entities = new { consumer = "c1" } });
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode); // the runner answers as before (no model in this test's stores)
    }

    [Fact]
    public async Task UnknownRoute_IsNotProxied()
    {
        using var response = await client!.PostAsync("/api/nothing-here", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task MirrorHub_EventsSentOverRest_AreDeliveredToShadowScore_AndItsDeadLetters_AndCheckpointed()
    {
        var batch = JsonSerializer.Serialize(Enumerable.Range(0, 20).Select(i => new
        {
            Body = JsonSerializer.Serialize(new { predictionId = $"p{i}" }),
            BrokerProperties = new { PartitionKey = $"c{i % 3}" },
        }));
        using var content = new StringContent(batch, Encoding.UTF8, "application/vnd.microsoft.servicebus.json");

        using var response = await client!.PostAsync("/eventhubs/mirror/messages", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var drained = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await run!.Triggers.Hub!.WaitUntilDrainedAsync(drained.Token); // checkpointed: ShadowScore is done with every event

        // Not mirror events: ShadowScore received every one (each partition in sequence order) and dead-lettered it with its reason.
        var letters = monitoring.DeadLetters.OrderBy(d => d.Body, StringComparer.Ordinal).ToList();
        Assert.Equal(
            Enumerable.Range(0, 20).Select(i => JsonSerializer.Serialize(new { predictionId = $"p{i}" })).Order(StringComparer.Ordinal),
            letters.Select(d => d.Body));
        Assert.All(letters, d => Assert.Equal("mirror/shadow", d.Source));
        Assert.All(letters, d => Assert.False(string.IsNullOrWhiteSpace(d.Reason)));
        foreach (var partition in monitoring.DeadLetters.GroupBy(d => d.Partition))
        {
            Assert.Equal(partition.Select(d => d.SequenceNumber).Order(), partition.Select(d => d.SequenceNumber)); // delivered in order
        }
    }

    [Fact]
    public async Task MirrorHub_UnknownHubOrBadBatch_IsRejected()
    {
        using var unknown = await client!.PostAsync("/eventhubs/other/messages", new StringContent("x"));
        using var bad = await client.PostAsync("/eventhubs/mirror/messages", new StringContent("{not json", Encoding.UTF8, "application/vnd.microsoft.servicebus.json"));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(0, run!.Triggers.Hub!.Backlog);
    }

    [Theory]
    [InlineData("DriftMonitor")]
    [InlineData("PromoteModels")]
    public async Task Admin_RunsATimerFunctionNow_ThroughTheInvocationProtocol(string name)
    {
        using var response = await client!.PostAsync($"/admin/functions/{name}", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(name, body.RootElement.GetProperty("logs")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_NotATimer_Is404()
    {
        using var response = await client!.PostAsync("/admin/functions/Predict", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
