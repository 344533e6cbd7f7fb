using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace DarkShip.Functions.Tests.Apis;

/// <summary>Hostile HTTP bodies: each is a 4xx problem+json, never a 5xx, and the handler answers normally after.</summary>
public sealed class HostileRequestTests(InMemoryHandler factory) : IClassFixture<InMemoryHandler>
{
    public static TheoryData<string, string, string, int> Bodies() => new()
    {
        { "deeply nested", "/api/predict/fraud", new string('[', 10_000) + new string(']', 10_000), 400 },
        { "deeply nested features", "/api/predict/fraud", "{\"features\":{\"f0\":" + new string('[', 5_000) + new string(']', 5_000) + "}}", 400 },
        { "number beyond a float", "/api/predict/fraud", "{\"features\":{\"f0\":1e400}}", 422 },
        { "number beyond a float, by a little", "/api/predict/fraud", "{\"features\":{\"f0\":3.5e38}}", 422 },
        { "NaN literal", "/api/predict/fraud", "{\"features\":{\"f0\":NaN}}", 400 },
        { "Infinity string", "/api/predict/fraud", "{\"features\":{\"f0\":\"-Infinity\"}}", 422 },
        { "duplicate feature", "/api/predict/fraud", "{\"features\":{\"f0\":1,\"f0\":2}}", 400 },
        { "duplicate member", "/api/predict/fraud", "{\"features\":{\"f0\":1},\"features\":{\"f0\":2}}", 400 },
        { "not an object", "/api/predict/fraud", "[1,2,3]", 400 },
        { "entity key with a control character", "/api/predict/fraud", "{\"entities\":{\"consumer\":\"c\\u0001\"}}", 422 },
        { "entity key with OData syntax and a slash", "/api/predict/fraud", "{\"entities\":{\"consumer\":\"c1' or PartitionKey ne 'x/y\"}}", 422 },
        { "group name with OData syntax", "/api/predict/fraud", "{\"entities\":{\"consumer' or 1 eq 1\":\"c1\"}}", 422 },
        { "batch too long", "/api/predict/fraud/batch", "{\"rows\":[" + string.Join(",", Enumerable.Repeat("{}", 5_000)) + "]}", 400 },
        { "outcomes batch too long", "/api/outcomes", "{\"outcomes\":[" + string.Join(",", Enumerable.Repeat("{\"predictionId\":\"x\",\"label\":1}", 5_000)) + "]}", 422 },
        { "outcome label NaN string", "/api/outcomes", "{\"predictionId\":\"01M82QWT8X3ZDT3YZDPTR3GEB5\",\"label\":\"NaN\"}", 422 },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task HostileBody_IsA4xxProblem_AndTheHandlerAnswersNormallyAfter(string what, string path, string body, int status)
    {
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();

        using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.True(status == (int)response.StatusCode, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await AssertHealthyAsync(client);
    }

    [Fact]
    public async Task NaNAsAString_IsTheDocumentedWayToSayMissing_AndIsNamedInDegraded()
    {
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();

        using var response = await client.PostAsync("/api/predict/fraud", new StringContent("{\"features\":{\"f0\":\"NaN\",\"f1\":2}}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("f0:missing", doc.RootElement.GetProperty("degraded").EnumerateArray().Select(d => d.GetString()));
    }

    [Fact]
    public async Task NotUtf8_And_WrongContentType_Are4xxProblems()
    {
        using var client = factory.WithChampion("fraud", "7", "binary_logistic_gbtree", "probability").CreateClient();
        var latin1 = new ByteArrayContent([.. "{\"requestId\":\""u8, 0xE9, 0xFF, .. "\"}"u8]);
        latin1.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var notUtf8 = await client.PostAsync("/api/predict/fraud", latin1);
        using var text = await client.PostAsync("/api/predict/fraud", new StringContent("{}", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.BadRequest, notUtf8.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        Assert.Equal("application/problem+json", notUtf8.Content.Headers.ContentType?.MediaType);
        Assert.Equal("application/problem+json", text.Content.Headers.ContentType?.MediaType);
        await AssertHealthyAsync(client);
    }

    private static async Task AssertHealthyAsync(HttpClient client)
    {
        using var ok = await client.PostAsync("/api/predict/fraud", new StringContent("{\"features\":{\"f0\":1.5}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var doc = JsonDocument.Parse(await ok.Content.ReadAsStringAsync());
        Assert.True(doc.RootElement.GetProperty("score").GetDouble() is > 0 and < 1);
    }
}
