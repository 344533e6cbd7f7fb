using System.Text.Json;
using System.Text.Json.Nodes;

namespace DarkShip.Functions.Local;

/// <summary>What the local runner's demo traffic sends (<c>darkship local --demo-traffic 20</c>; <c>./run.sh</c> turns it on).</summary>
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
/// them, at a fixed rate, and each one's outcome a little later (label drawn with the served score as its probability,
/// so the champion is calibrated and a challenger is judged against it). Loopback only; stops with the run. A failed
/// call is counted and logged once a minute, never retried: the next call is the next request.
/// </summary>
internal sealed partial class LocalDemoTraffic(LocalDemoTrafficOptions options, LocalRunnerOptions runner, TimeProvider time, ILogger<LocalDemoTraffic> logger) : BackgroundService
{
    private const int OutcomesPerPost = 200;

    private readonly Random random = new(options.Seed);
    private readonly Queue<(DateTimeOffset Due, string PredictionId, int Label)> outcomes = new();
    private long sent;
    private long failed;

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
        var interval = TimeSpan.FromSeconds(1 / options.Rate);
        var next = time.GetUtcNow();
        var lastReport = next;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                next += interval;
                var wait = next - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
                else if (wait < -TimeSpan.FromSeconds(5))
                {
                    next = time.GetUtcNow(); // fell behind (a paused process): carry on at the rate, do not burst
                }

                await PredictAsync(client, stoppingToken);
                await PostDueOutcomesAsync(client, stoppingToken);
                if (time.GetUtcNow() - lastReport >= TimeSpan.FromMinutes(1))
                {
                    lastReport = time.GetUtcNow();
                    LogProgress(logger, Sent, Interlocked.Read(ref failed));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PredictAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var consumer = random.Next(1, 2001);
        var request = new JsonObject
        {
            ["entities"] = new JsonObject { ["consumer"] = $"c{consumer}", ["store"] = $"s{random.Next(1, 201)}" },
            ["features"] = new JsonObject { ["amount"] = Math.Round(Math.Exp(2 + (random.NextDouble() * 4)), 2), ["hour_of_day"] = random.Next(0, 24) },
        };
        try
        {
            using var response = await client.PostAsync($"/api/predict/{Uri.EscapeDataString(options.Model)}", JsonContent(request), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref failed);
                return;
            }

            using var answer = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            var score = answer.RootElement.GetProperty("score").GetDouble();
            var label = random.NextDouble() < score ? 1 : 0;
            outcomes.Enqueue((time.GetUtcNow() + options.Delay, answer.RootElement.GetProperty("predictionId").GetString()!, label));
            Interlocked.Increment(ref sent);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref failed);
        }
    }

    private async Task PostDueOutcomesAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (outcomes.Count == 0 || outcomes.Peek().Due > now)
        {
            return;
        }

        var batch = new JsonArray();
        while (batch.Count < OutcomesPerPost && outcomes.TryPeek(out var due) && due.Due <= now)
        {
            outcomes.Dequeue();
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

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic: {Rate} predictions/s for '{Model}' through {FrontDoor}, each outcome posted shortly after")]
    private static partial void LogStarted(ILogger logger, double rate, string model, Uri? frontDoor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic: {Sent} predictions answered, {Failed} calls failed")]
    private static partial void LogProgress(ILogger logger, long sent, long failed);
}
