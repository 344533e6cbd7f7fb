using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Hosting;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Registry;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace DarkShip.Functions.Tests.Apis;

public sealed class PredictApiTests(InMemoryHandler factory) : IClassFixture<InMemoryHandler>
{
    [Fact]
    public async Task Readiness_Answers200()
    {
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readiness_WaitsForTheFirstRegistryRead_AndAnswers200WhenItCompletes()
    {
        var registry = new GatedRegistry();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureServices(registry.Replace));
        using var client = app.CreateClient();

        var probe = client.GetAsync("/");
        await registry.ReadStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(300);
        Assert.False(probe.IsCompleted, "the readiness check answered before the registry was read");

        registry.Open.SetResult();
        using var response = await probe.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readiness_Is503Problem_WhenTheRegistryIsNotReadWithinTheLoadWait()
    {
        var registry = new GatedRegistry();
        using var app = factory.WithWebHostBuilder(b => b
            .UseSetting("Serving:ModelLoadWaitSeconds", "1")
            .ConfigureServices(registry.Replace));
        using var client = app.CreateClient();

        var started = TimeProvider.System.GetTimestamp();
        using var response = await client.GetAsync("/");

        var waited = TimeProvider.System.GetElapsedTime(started);
        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.InRange(waited, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));
        registry.Open.SetResult();
    }

    [Fact]
    public async Task Predict_UnknownModel_Is404Problem()
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/predict/nobody", new { entities = new { consumer = "c1" } });

        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("-leading-dash")]
    [InlineData("a.b")]
    public async Task Predict_InvalidModelName_Is400WithAFieldError(string model)
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync($"/api/predict/{Uri.EscapeDataString(model)}", new { });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("model", out _));
    }

    [Fact]
    public async Task Predict_MalformedJson_Is400ProblemWithoutExceptionText()
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/api/predict/fraud", new StringContent("{\"features\": ", Encoding.UTF8, "application/json"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("The request body is not valid JSON of the expected shape.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Predict_BodyOverTheLimit_Is413Problem()
    {
        using var client = factory.CreateClient();
        var huge = "{\"requestId\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";

        using var response = await client.PostAsync("/api/predict/fraud", new StringContent(huge, Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Predict_ChampionWithInlineFeatures_ReturnsXGBoostsScore()
    {
        var model = XGBoostModelReader.Load(TestPaths.Fixture("binary_logistic_gbtree", "model.json"));
        using var cases = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("binary_logistic_gbtree", "cases.json")));
        var row = cases.RootElement.GetProperty("rows")[0];
        var expected = cases.RootElement.GetProperty("transformed")[0][0].GetDouble();
        var features = row.EnumerateArray().Select((v, i) => (i, v)).ToDictionary(p => $"f{p.i}", p => p.v.ValueKind == JsonValueKind.Null ? (double?)null : p.v.GetDouble());
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();

        using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { features });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal("fraud", root.GetProperty("model").GetString());
        Assert.Equal("7", root.GetProperty("version").GetString());
        Assert.Equal("champion", root.GetProperty("arm").GetString());
        Assert.Equal(expected, root.GetProperty("score").GetDouble(), 1e-6);
        Assert.Equal(26, root.GetProperty("predictionId").GetString()!.Length);
        Assert.Equal(features.Where(f => f.Value is null).Select(f => $"{f.Key}:missing"), root.GetProperty("degraded").EnumerateArray().Select(d => d.GetString()));
    }

    [Fact]
    public async Task Predict_ARequestIdTooLongForTheLog_Is422_NotALostLogBatch()
    {
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();

        using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { features = new { f0 = 1.0 }, requestId = new string('r', 40_000) });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("requestId", out _));
    }

    [Fact]
    public async Task Predict_UnknownFeatureName_Is422NamingIt()
    {
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();

        using var response = await client.PostAsJsonAsync("/api/predict/fraud", new { features = new Dictionary<string, double> { ["f0"] = 1, ["colour"] = 2 } });

        var problem = await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.True(problem.GetProperty("errors").TryGetProperty("features.colour", out _));
    }

    [Fact]
    public async Task PredictBatch_MulticlassRows_ReturnEachRowsProbabilities()
    {
        using var cases = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("multi_softprob_wine", "cases.json")));
        var rows = cases.RootElement.GetProperty("rows").EnumerateArray().Take(5)
            .Select(r => new { features = r.EnumerateArray().Select((v, i) => (i, v)).ToDictionary(p => $"f{p.i}", p => p.v.ValueKind == JsonValueKind.Null ? (double?)null : p.v.GetDouble()) })
            .ToArray();
        using var client = factory.WithChampion("wine", "1", "multi_softprob_wine", "multiclass").CreateClient();

        using var response = await client.PostAsJsonAsync("/api/predict/wine/batch", new { rows });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        for (var r = 0; r < rows.Length; r++)
        {
            var scores = body.RootElement.GetProperty("predictions")[r].GetProperty("scores").EnumerateArray().Select(s => s.GetDouble()).ToArray();
            var expected = cases.RootElement.GetProperty("transformed")[r].EnumerateArray().Select(s => s.GetDouble()).ToArray();
            Assert.Equal(expected.Length, scores.Length);
            for (var c = 0; c < expected.Length; c++)
            {
                Assert.Equal(expected[c], scores[c], 1e-6);
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task PredictBatch_OutsideOneToHundredRows_Is400(int count)
    {
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/predict/fraud/batch", new { rows = Enumerable.Range(0, count).Select(_ => new { }).ToArray() });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("rows", out _));
    }

    [Fact]
    public async Task ShadowScore_HostBatchPayload_SucceedsWithUnreadableEventsDeadLettered_AndMalformedPayloadFailsTheInvocation()
    {
        using var client = factory.CreateClient();
        const string good = """{"Data":{"events":"[\"{}\",\"{}\"]"},"Metadata":{"SequenceNumberArray":"[5,6]","PartitionContext":"{\"PartitionId\":\"2\"}"}}""";

        using var ok = await client.PostAsync("/ShadowScore", new StringContent(good, Encoding.UTF8, "application/json"));
        using var bad = await client.PostAsync("/ShadowScore", new StringContent("""{"Data":{},"Metadata":{}}""", Encoding.UTF8, "application/json"));
        using var notJson = await client.PostAsync("/ShadowScore", new StringContent("nope", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var response = JsonDocument.Parse(await ok.Content.ReadAsStringAsync());
        var log = response.RootElement.GetProperty("Logs")[0].GetString();
        Assert.Contains("partition 2 (sequence 5..6): 2 events", log, StringComparison.Ordinal);
        Assert.Contains("2 dead-lettered", log, StringComparison.Ordinal); // "{}" is not a mirror event
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, doc.RootElement.GetProperty("status").GetInt32());
        return doc.RootElement.Clone();
    }
}

/// <summary>An in-memory registry whose reads wait until <see cref="Open"/> is set: a registry that has not answered yet.</summary>
internal sealed class GatedRegistry : IModelRegistry
{
    public InMemoryModelRegistry Inner { get; } = new();

    public TaskCompletionSource ReadStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Puts this registry behind the app's registry port, in-memory stores behind the others.</summary>
    public void Replace(IServiceCollection services)
    {
        services.AddInMemoryStores(new InMemoryFeatureStore(), Inner);
        var stores = (Stores)services.Last(d => d.ServiceType == typeof(Stores)).ImplementationInstance!;
        services.AddSingleton(stores with { Registry = this });
    }

    public async Task<RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default)
    {
        ReadStarted.TrySetResult();
        await Open.Task.WaitAsync(cancellationToken);
        return await Inner.ReadIfChangedAsync(knownRevision, cancellationToken);
    }

    public Task<bool> TryAddAsync(ModelVersion version, CancellationToken cancellationToken = default) => Inner.TryAddAsync(version, cancellationToken);

    public Task<bool> TryUpdateAsync(IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken = default) => Inner.TryUpdateAsync(versions, cancellationToken);

    public Task<bool> TrySetRulesAsync(string model, PromotionRules rules, CancellationToken cancellationToken = default) => Inner.TrySetRulesAsync(model, rules, cancellationToken);
}
