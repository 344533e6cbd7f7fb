using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Local;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// Storage faults through the local runner, each on a private Azurite that the test freezes or kills
/// (the shared one serves the other tests meanwhile). Bounded: each test well under a minute.
/// </summary>
public sealed class ChaosTests : IAsyncLifetime
{
    private readonly AzuriteFixture azurite = new();
    private readonly RecordingLogs logs = new();

    public Task InitializeAsync() => azurite.InitializeAsync();

    public Task DisposeAsync() => azurite.DisposeAsync();

    private async Task<LocalRun> StartAsync()
    {
        await DemoSystem.SeedAsync(azurite);
        return await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), DemoSystem.Settings(azurite, new Dictionary<string, string>()), CancellationToken.None,
            services => services.AddSingleton<ILoggerProvider>(logs));
    }

    private static async Task<(HttpStatusCode Status, double Ms, string[] Degraded)> PredictAsync(HttpClient client, int i)
    {
        var watch = Stopwatch.StartNew();
        using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { entities = new { consumer = $"c{1 + (i % 50)}", store = "s9" }, features = new { amount = 100 + i, hour_of_day = 3 } });
        var ms = watch.Elapsed.TotalMilliseconds;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (response.StatusCode, ms, []);
        }

        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, ms, [.. doc.RootElement.GetProperty("degraded").EnumerateArray().Select(d => d.GetString()!)]);
    }

    [Fact]
    public async Task StorageFrozen_EveryAnswerComesWithinTheBudget_Degraded_NeverA5xx_AndRecoversAfter()
    {
        await using var run = await StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        for (var i = 0; i < 200 && (await PredictAsync(client, i)).Degraded.Length > 0; i++)
        {
            // warm up until Azurite answers within the 50 ms budget
        }

        azurite.Freeze();
        var frozen = new List<(HttpStatusCode Status, double Ms, string[] Degraded)>();
        try
        {
            var started = Stopwatch.StartNew();
            var pending = new List<Task<(HttpStatusCode, double, string[])>>();
            for (var i = 0; started.Elapsed < TimeSpan.FromSeconds(4); i++)
            {
                pending.Add(PredictAsync(client, i)); // open loop: 20 requests a second whatever the answers do
                await Task.Delay(50);
            }

            frozen.AddRange(await Task.WhenAll(pending));
        }
        finally
        {
            azurite.Thaw();
        }

        Assert.True(frozen.Count >= 40, $"only {frozen.Count} requests");
        Assert.All(frozen, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(frozen, a => Assert.Contains("consumer:timedOut", a.Degraded)); // the store group is served from its TTL cache
        Assert.True(frozen.Max(a => a.Ms) < 1000, $"slowest answer {frozen.Max(a => a.Ms):F0} ms with storage frozen (budget 50 ms)");

        var recovered = false;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        for (var i = 0; !recovered && !deadline.IsCancellationRequested; i++)
        {
            recovered = (await PredictAsync(client, i)).Degraded.Length == 0;
        }

        Assert.True(recovered, "answers stayed degraded after storage came back");
    }

    [Fact]
    public async Task ShutdownWithStorageGone_EndsWithinTheFlushLimit_AndSaysWhatItCouldNotDeliver()
    {
        var run = await StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        var log = run.HandlerServices.GetRequiredService<BatchingQueue<PredictionLogEntry>>();
        azurite.Kill();
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PredictAsync(client, i)).Status); // the cached champion answers, on defaults
        }

        var watch = Stopwatch.StartNew();
        await run.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"shutdown took {watch.Elapsed}"); // the 10 s flush limit, and the runner's own stop
        Assert.Equal(30, log.Enqueued);
        Assert.True(log.Delivered == 0 && log.Failed + log.Dropped > 0, $"delivered {log.Delivered}, failed {log.Failed}, dropped {log.Dropped}");
        var report = Assert.Single(logs.Messages, m => m.StartsWith("prediction-log: stopped; 0 of 30 items delivered", StringComparison.Ordinal));
        Assert.Contains("lost to the destination", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StorageGone_PredictServesTheCachedChampion_OutcomesAre503_AndShadowScoreCountsEveryEventOnceWhenItReturns()
    {
        await using var run = await StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        var account = DemoSystem.Account(azurite);
        var epoch = (await account.Registry().ReadIfChangedAsync(null))!.Of("fraud").Single(v => v.Version == "1").ChangedAt.ToUniversalTime();
        azurite.Kill();

        const int Requests = 20;
        string? predictionId = null;
        for (var i = 0; i < Requests; i++)
        {
            using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { entities = new { consumer = $"c{i + 1}", store = "s9" }, features = new { amount = 100 + i, hour_of_day = 3 } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            predictionId = doc.RootElement.GetProperty("predictionId").GetString();
        }

        using (var outcome = await client.PostAsJsonAsync("/api/outcomes", new { predictionId, label = 1 }))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, outcome.StatusCode);
            Assert.NotNull(outcome.Headers.RetryAfter);
        }

        await Task.Delay(TimeSpan.FromSeconds(1)); // ShadowScore's first tries fail meanwhile; the hub delivers the batches again
        await azurite.RestartAsync();

        long counted = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        while (counted < Requests && !deadline.IsCancellationRequested)
        {
            await Task.Delay(250);
            try
            {
                counted = (await account.Aggregates().ReadAsync("fraud", "1", epoch, DateTimeOffset.MinValue)).Sum(w => w.Count);
            }
            catch (Exception e) when (e is Azure.RequestFailedException or TimeoutException)
            {
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(2)); // any late re-delivery would count twice now
        counted = (await account.Aggregates().ReadAsync("fraud", "1", epoch, DateTimeOffset.MinValue)).Sum(w => w.Count);
        var all = await account.Aggregates().ReadAsync("fraud", "1", null, DateTimeOffset.MinValue);
        Assert.True(Requests == counted, $"counted {counted}; windows {string.Join("; ", all.Select(w => $"{w.Key} {w.Count}"))}; log: {string.Join(" | ", logs.Messages.Where(m => m.Contains("ShadowScore", StringComparison.Ordinal) || m.Contains("gave up", StringComparison.Ordinal) || m.Contains("retry", StringComparison.OrdinalIgnoreCase)).Take(12))}"); // every event once: none lost to the outage, none counted twice
    }

    [Fact]
    public async Task MirrorHubRefusing_PredictIsUnaffected_AndTheLossesAreCounted()
    {
        await DemoSystem.SeedAsync(azurite);
        await using var handler = Hosting.HandlerApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection([
                KeyValuePair.Create("AzureWebJobsStorage", (string?)azurite.ConnectionString),
                KeyValuePair.Create("MirrorHub:fullyQualifiedNamespace", (string?)"127.0.0.1:9"), // nothing listens there
            ]);
            b.WebHost.UseUrls("http://127.0.0.1:0");
        });
        await handler.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(handler.Urls.First()) };
        for (var i = 0; i < 600 && !(await client.GetAsync("/")).IsSuccessStatusCode; i++)
        {
            await Task.Delay(50);
        }

        var answers = new List<(HttpStatusCode Status, double Ms, string[] Degraded)>();
        for (var i = 0; i < 10; i++)
        {
            answers.Add(await PredictAsync(client, i));
        }

        var mirror = handler.Services.GetRequiredService<BatchingQueue<MirrorEvent>>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (mirror.Failed < 10 && !deadline.IsCancellationRequested)
        {
            await Task.Delay(100);
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal((10L, 0L, 0L), (mirror.Failed, mirror.Delivered, mirror.Dropped));
        await handler.StopAsync();
    }

    [Fact]
    public async Task ANewChampionWhoseFileWasTamperedWith_IsNotLoaded_ThePreviousOneAnswers_AndTheFailureIsAnEvent()
    {
        await using var run = await StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        // Version 13: the demo's seed holds 1 to 3 (the ML.NET challenger is 3).
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, TextWriter.Null, TextWriter.Null);
        var actor = new Serving.Ladder.LadderActor("it@test", "chaos");
        Assert.Equal(0, await cli.RegisterAsync("fraud", DemoSystem.Model("fraud-challenger"), DemoSystem.Manifest("fraud", "fraud-challenger"), "13", actor, CancellationToken.None));
        await artifacts.UploadAsync(Serving.Registry.ModelArtifactPaths.Model("fraud", "13"), "{\"learner\": \"tampered\"}"u8.ToArray()); // its SHA-256 no longer matches
        Assert.Equal(0, await cli.MoveAsync(new Serving.Ladder.LadderCommand.Shadow("fraud", "13", 100), actor, CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new Serving.Ladder.LadderCommand.Promote("fraud", "13", Force: true), actor, CancellationToken.None));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!logs.Messages.Any(m => m.StartsWith("Could not load fraud version 13 (Champion)", StringComparison.Ordinal)) && !deadline.IsCancellationRequested)
        {
            await Task.Delay(100);
        }

        Assert.Contains(logs.Messages, m => m.StartsWith("Could not load fraud version 13 (Champion)", StringComparison.Ordinal) && m.Contains("SHA-256", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(logs.Events, e => e.Name == "ModelLoadFailed" && e.Id == Serving.Models.ModelCache.LoadFailedEventId);
        using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { entities = new { consumer = "c1", store = "s9" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("1", doc.RootElement.GetProperty("version").GetString()); // the previous champion keeps answering
    }

    /// <summary>Keeps every log message of the handler.</summary>
    private sealed class RecordingLogs : ILoggerProvider, ILogger
    {
        private readonly List<string> messages = [];
        private readonly List<EventId> events = [];

        public IReadOnlyList<EventId> Events
        {
            get
            {
                lock (messages)
                {
                    return [.. events];
                }
            }
        }

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (messages)
                {
                    return [.. messages];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (messages)
            {
                messages.Add(formatter(state, exception));
                events.Add(eventId);
            }
        }
    }
}
