using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Hosting;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Features;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace DarkShip.Functions.Tests.Apis;

/// <summary><c>POST /api/outcomes</c> through the handler, joined to predictions the handler made and logged.</summary>
public sealed class OutcomesApiTests(InMemoryHandler factory) : IClassFixture<InMemoryHandler>
{
    [Fact]
    public async Task An_outcome_joins_its_prediction_a_repeat_is_a_duplicate_and_an_unknown_id_is_reported_back()
    {
        var app = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability");
        using var client = app.CreateClient();
        var predictionId = await PredictAsync(client);
        await FlushModelLogAsync(app); // the model log is written in batches, off the request path

        var single = await PostAsync(client, new { predictionId, label = 1, observedAt = "2026-11-21T09:00:00Z" });

        Assert.Equal(1, single.GetProperty("joined").GetInt32());
        Assert.Equal(["fraud/7"], single.GetProperty("results")[0].GetProperty("versions").EnumerateArray().Select(v => v.GetString()));

        var unknown = PredictionId.New(TimeProvider.System);
        var batch = await PostAsync(client, new
        {
            outcomes = new object[]
            {
                new { predictionId, label = 1, observedAt = "2026-11-21T09:00:00Z" },
                new { predictionId = unknown, label = true },
            },
        });

        Assert.Equal("duplicate", batch.GetProperty("results")[0].GetProperty("status").GetString());
        Assert.Equal("unmatched", batch.GetProperty("results")[1].GetProperty("status").GetString());
        Assert.Equal([unknown], batch.GetProperty("unmatched").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(1, batch.GetProperty("duplicates").GetInt32());
    }

    [Fact]
    public async Task A_batch_with_any_bad_outcome_is_422_naming_each_and_stores_nothing()
    {
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();
        var predictionId = await PredictAsync(client);

        using var response = await client.PostAsJsonAsync("/api/outcomes", new
        {
            outcomes = new object[]
            {
                new { predictionId, label = 1 },
                new { predictionId = "not-an-id", label = 1 },
                new { predictionId, label = "yes" },
                new { predictionId = PredictionId.New(TimeProvider.System), label = 0, observedAt = "2099-01-01T00:00:00Z" },
                new { predictionId = PredictionId.New(TimeProvider.System), label = 0, observedAt = "yesterday" },
            },
        });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = problem.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("outcomes[1].predictionId", out _));
        Assert.True(errors.TryGetProperty("outcomes[2].label", out _));
        Assert.True(errors.TryGetProperty("outcomes[3].observedAt", out _));
        Assert.True(errors.TryGetProperty("outcomes[4]", out _));
        Assert.Contains("nothing was stored", problem.RootElement.GetProperty("title").GetString(), StringComparison.Ordinal);

        // The valid outcome of the refused batch was not stored: posted now, it is new, not a duplicate.
        var alone = await PostAsync(client, new { predictionId, label = 1 });
        Assert.NotEqual("duplicate", alone.GetProperty("results")[0].GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("[1, 2]", HttpStatusCode.BadRequest)]
    [InlineData("{\"outcomes\": 5}", HttpStatusCode.BadRequest)]
    [InlineData("{\"outcomes\": []}", HttpStatusCode.UnprocessableEntity)]
    [InlineData("{\"predictionId\": ", HttpStatusCode.BadRequest)]
    public async Task Bodies_of_the_wrong_shape_are_problems(string body, HttpStatusCode status)
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/api/outcomes", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("#")]
    [InlineData("\u0001")]
    [InlineData("U")]
    public async Task A_prediction_id_bad_anywhere_in_its_26_characters_is_422(string bad)
    {
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();
        var id = PredictionId.New(TimeProvider.System);
        var hostile = id[..20] + bad + id[21..];

        using var response = await client.PostAsJsonAsync("/api/outcomes", new { predictionId = hostile, label = 1 });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("predictionId", out _));
    }

    [Fact]
    public async Task A_lower_case_prediction_id_is_the_same_id_and_joins()
    {
        var app = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability");
        using var client = app.CreateClient();
        var predictionId = await PredictAsync(client);
        await FlushModelLogAsync(app);

        var result = await PostAsync(client, new { predictionId = predictionId.ToLowerInvariant(), label = 0 });

        Assert.Equal(1, result.GetProperty("joined").GetInt32());
        Assert.Equal(predictionId, result.GetProperty("results")[0].GetProperty("predictionId").GetString());
    }

    [Fact]
    public async Task Storage_out_of_reach_is_503_with_Retry_After_never_500()
    {
        using var client = factory.WithWebHostBuilder(b => b.ConfigureServices(services =>
        {
            var monitoring = new InMemoryMonitoringStore();
            var registry = new InMemoryModelRegistry();
            var down = new UnreachableOutcomes();
            services.AddSingleton(new Stores(new InMemoryFeatureStore(), registry, registry, down, new InMemoryModelEventLog(), monitoring, monitoring, down, down, new InMemoryDriftStore()));
        })).CreateClient();

        using var response = await client.PostAsJsonAsync("/api/outcomes", new { predictionId = PredictionId.New(TimeProvider.System), label = 1 });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
        Assert.DoesNotContain("127.0.0.1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal); // no exception text
    }

    /// <summary>Outcome and log stores whose account does not answer, as the storage client reports it after its retries.</summary>
    private sealed class UnreachableOutcomes : IOutcomeStore, IPredictionLogReader, DarkShip.Serving.Batching.IBatchSink<DarkShip.Serving.Mirror.PredictionLogEntry>
    {
        private static Azure.RequestFailedException Down() => new(0, "Connection refused (127.0.0.1:10002)", new HttpRequestException("Connection refused"));

        public Task<OutcomeRecord?> FindAsync(string predictionId, CancellationToken cancellationToken = default) => throw Down();

        public Task SaveAsync(OutcomeRecord record, CancellationToken cancellationToken = default) => throw Down();

        public Task SaveLabelsAsync(IReadOnlyList<LabelledPrediction> labels, CancellationToken cancellationToken = default) => throw Down();

        public IAsyncEnumerable<OutcomeRecord> ReadByPredictionTimeAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) => throw Down();

        public IAsyncEnumerable<LabelledPrediction> ReadLabelsAsync(string model, string version, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) => throw Down();

        public Task<IReadOnlyList<LoggedPrediction>> FindLoggedAsync(string predictionId, CancellationToken cancellationToken = default) => throw Down();

        public Task<DarkShip.Serving.Batching.BatchDelivery> WriteAsync(IReadOnlyList<DarkShip.Serving.Mirror.PredictionLogEntry> batch, CancellationToken cancellationToken) => throw Down();
    }

    /// <summary>Waits until the model log has written every prediction made so far (no polling, no sleeping).</summary>
    private static async Task FlushModelLogAsync(WebApplicationFactory<Program> app)
    {
        var log = app.Services.GetRequiredService<DarkShip.Serving.Batching.BatchingQueue<DarkShip.Serving.Mirror.PredictionLogEntry>>();
        await log.FlushAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, log.Failed + log.Dropped);
    }

    private static async Task<string> PredictAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { features = new { f0 = 1.0, f1 = 2.0 } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("predictionId").GetString()!;
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/outcomes", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
