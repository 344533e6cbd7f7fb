using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DarkShip.Functions.Local;

/// <summary>What the local runner's demo traffic sends (<c>darkship local --demo-traffic 5</c>; <c>./run.sh</c> turns it on).</summary>
/// <param name="Rate">Predictions per second; 0 sends none.</param>
/// <param name="Model">The model it asks for.</param>
/// <param name="OutcomeDelay">How long after its prediction an outcome is posted: the model log is written by then, as in life.</param>
/// <param name="Seed">Seeds the entities, features and labels, so two runs send the same.</param>
internal sealed record LocalDemoTrafficOptions(double Rate, string Model = "fraud", TimeSpan? OutcomeDelay = null, int Seed = 42)
{
    public TimeSpan Delay => OutcomeDelay ?? TimeSpan.FromSeconds(15);
}

/// <summary>
/// Callers for the demo, so <c>./run.sh</c> plus a browser on <c>/report/fraud</c> shows the challengers climbing the ladder:
/// predictions for the demo's consumers (c1–c2000) and stores (s1–s200) through the front door as a client would send
/// them, at a fixed rate (open loop: a slow answer does not slow the callers, up to <see cref="MaxInFlight"/> at once),
/// and each one's outcome a little later, posted once a second in batches (label drawn with the served score as its
/// probability, so the champion is calibrated and a challenger is judged against it). Loopback only; stops with the
/// run. A failed call is counted and logged once a minute, never retried: the next call is the next request.
/// </summary>
internal sealed partial class LocalDemoTraffic(LocalDemoTrafficOptions options, LocalRunnerOptions runner, TimeProvider time, ILogger<LocalDemoTraffic> logger) : BackgroundService
{
    /// <summary>Most predictions waiting for their answer; past it a tick is skipped (counted), not queued.</summary>
    public const int MaxInFlight = 32;

    private const int OutcomesPerPost = 500;

    private readonly Random random = new(options.Seed);
    private readonly ConcurrentQueue<(DateTimeOffset Due, string PredictionId, int Label)> outcomes = new();
    private readonly SemaphoreSlim inFlight = new(MaxInFlight);
    private long sent;
    private long failed;
    private long skipped;

    /// <summary>Predictions answered so far.</summary>
    public long Sent => Interlocked.Read(ref sent);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Rate <= 0)
        {
            return;
        }

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://127.0.0.1:{runner.Port}"), Timeout = TimeSpan.FromSeconds(10) };
        LogStarted(logger, options.Rate, options.Model, client.BaseAddress);
        try
        {
            await Task.WhenAll(CallAsync(client, stoppingToken), PostOutcomesAsync(client, stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One prediction every 1/rate seconds, without waiting for the one before.</summary>
    private async Task CallAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(1 / options.Rate);
        var next = time.GetUtcNow();
        var lastReport = next;
        var calls = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                next += interval;
                var wait = next - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken);
                }
                else if (wait < -TimeSpan.FromSeconds(5))
                {
                    next = time.GetUtcNow(); // fell behind (a paused process): carry on at the rate, do not burst
                }

                if (inFlight.Wait(0, CancellationToken.None))
                {
                    calls.Add(PredictAsync(client, cancellationToken));
                    calls.RemoveAll(c => c.IsCompleted);
                }
                else
                {
                    Interlocked.Increment(ref skipped);
                }

                if (time.GetUtcNow() - lastReport >= TimeSpan.FromMinutes(1))
                {
                    lastReport = time.GetUtcNow();
                    LogProgress(logger, Sent, Interlocked.Read(ref failed), Interlocked.Read(ref skipped));
                }
            }
        }
        finally
        {
            await Task.WhenAll(calls).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // every call releases its slot before the semaphore goes
        }
    }

    private async Task PredictAsync(HttpClient client, CancellationToken cancellationToken)
    {
        try
        {
            JsonObject request;
            lock (random)
            {
                request = new JsonObject
                {
                    ["entities"] = new JsonObject { ["consumer"] = $"c{random.Next(1, 2001)}", ["store"] = $"s{random.Next(1, 201)}" },
                    ["features"] = new JsonObject { ["amount"] = Amount(random), ["hour_of_day"] = random.Next(0, 24) },
                };
            }

            using var response = await client.PostAsync($"/api/predict/{Uri.EscapeDataString(options.Model)}", JsonContent(request), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref failed);
                return;
            }

            using var answer = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            var score = answer.RootElement.GetProperty("score").GetDouble();
            int label;
            lock (random)
            {
                label = random.NextDouble() < score ? 1 : 0;
            }

            outcomes.Enqueue((time.GetUtcNow() + options.Delay, answer.RootElement.GetProperty("predictionId").GetString()!, label));
            Interlocked.Increment(ref sent);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref failed);
        }
        finally
        {
            inFlight.Release();
        }
    }

    /// <summary>Once a second, the outcomes that are due, in batches.</summary>
    private async Task PostOutcomesAsync(HttpClient client, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            var now = time.GetUtcNow();
            while (outcomes.TryPeek(out var first) && first.Due <= now)
            {
                var batch = new JsonArray();
                while (batch.Count < OutcomesPerPost && outcomes.TryPeek(out var due) && due.Due <= now && outcomes.TryDequeue(out due))
                {
                    batch.Add((JsonNode)new JsonObject { ["predictionId"] = due.PredictionId, ["label"] = due.Label });
                }

                try
                {
                    using var response = await client.PostAsync("/api/outcomes", JsonContent(new JsonObject { ["outcomes"] = batch }), cancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }
    }

    public override void Dispose()
    {
        inFlight.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// An amount as the demo model was trained on them: log-normal, median 48 and ln-σ 1 (the training baseline's deciles
    /// run from 12 to 153), so the demo's own traffic raises no drift alert. Box–Muller on two uniforms.
    /// </summary>
    private static double Amount(Random random)
    {
        var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return Math.Round(Math.Clamp(Math.Exp(3.87 + normal), 0.5, 1000), 2);
    }

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic: {Rate} predictions/s for '{Model}' through {FrontDoor}, each outcome posted shortly after")]
    private static partial void LogStarted(ILogger logger, double rate, string model, Uri? frontDoor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic: {Sent} predictions answered, {Failed} calls failed, {Skipped} skipped with {MaxInFlight} awaiting answers")]
    private static partial void LogProgress(ILogger logger, long sent, long failed, long skipped, int maxInFlight = MaxInFlight);
}
