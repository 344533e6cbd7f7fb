using System.Text.Json;
using Azure;
using Azure.Core;
using DarkShip.Serving.Mirror;
using DarkShip.Storage.Tests.Fakes;

namespace DarkShip.EventHubs.Tests;

public sealed class EventHubProducerClientTests
{
    private sealed class RecordingCredential : TokenCredential
    {
        public List<string[]> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.Add(requestContext.Scopes);
            return new AccessToken("token-1", DateTimeOffset.MaxValue);
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    private static EventHubProducerClient Client(FakeTransport transport, TokenCredential? credential, Uri? ns = null, int maxBytes = 256 * 1024) =>
        new(ns ?? new Uri("https://ns1.servicebus.windows.net/"), "mirror", credential, new EventHubProducerClientOptions { Transport = transport, MaxRequestBytes = maxBytes, Retry = { MaxRetries = 0 } });

    [Fact]
    public async Task Send_Batch_PostsTheRestBatchWithPartitionKeysAndAnEntraToken()
    {
        var transport = new FakeTransport(new FakeResponse(201));
        var credential = new RecordingCredential();

        await Client(transport, credential).SendAsync([new OutgoingEvent("{\"a\":1}", "c1"), new OutgoingEvent("plain \"text\"", null)]);

        var request = Assert.Single(transport.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("https://ns1.servicebus.windows.net/mirror/messages?timeout=60&api-version=2014-01", request.Uri.AbsoluteUri);
        Assert.Equal("application/vnd.microsoft.servicebus.json", request.Headers["Content-Type"]);
        Assert.Equal("Bearer token-1", request.Headers["Authorization"]);
        Assert.Equal(["https://eventhubs.azure.net/.default"], Assert.Single(credential.Scopes));
        using var body = JsonDocument.Parse(request.Body!);
        Assert.Equal("{\"a\":1}", body.RootElement[0].GetProperty("Body").GetString());
        Assert.Equal("c1", body.RootElement[0].GetProperty("BrokerProperties").GetProperty("PartitionKey").GetString());
        Assert.Equal("plain \"text\"", body.RootElement[1].GetProperty("Body").GetString());
        Assert.False(body.RootElement[1].TryGetProperty("BrokerProperties", out _));
    }

    [Fact]
    public async Task Send_LargerThanOneRequest_SplitsWithoutLosingOrReordering()
    {
        var transport = new FakeTransport([.. Enumerable.Range(0, 10).Select(_ => new FakeResponse(201))]);
        var events = Enumerable.Range(0, 50).Select(i => new OutgoingEvent($"event-{i}-" + new string('x', 100), $"k{i}")).ToList();

        await Client(transport, new RecordingCredential(), maxBytes: 1024).SendAsync(events);

        Assert.True(transport.Requests.Count > 1);
        Assert.All(transport.Requests, r => Assert.True(r.Body!.Length <= 1024));
        var sent = transport.Requests.SelectMany(r => JsonDocument.Parse(r.Body!).RootElement.EnumerateArray().Select(e => e.GetProperty("Body").GetString())).ToList();
        Assert.Equal(events.Select(e => e.Body), sent);
    }

    [Fact]
    public async Task Send_Refused_ThrowsWithTheStatus()
    {
        var transport = new FakeTransport(new FakeResponse(401, "no"));

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => Client(transport, new RecordingCredential()).SendAsync([new OutgoingEvent("x", null)]));

        Assert.Equal(401, e.Status);
    }

    [Fact]
    public void Create_RemoteHubWithoutCredential_IsRefused_LoopbackIsPlainHttp()
    {
        Assert.Throws<ArgumentNullException>(() => Client(new FakeTransport(), null));
        Assert.Equal(new Uri("http://127.0.0.1:7071/eventhubs/"), EventHubProducerClient.NamespaceUri("127.0.0.1:7071"));
        Assert.Equal(new Uri("https://ns1.servicebus.windows.net/"), EventHubProducerClient.NamespaceUri("ns1.servicebus.windows.net"));
        Client(new FakeTransport(), null, EventHubProducerClient.NamespaceUri("127.0.0.1:7071"));
    }

    [Fact]
    public async Task MirrorSink_SendsEachEventAsItsJsonKeyedByItsEntity()
    {
        var transport = new FakeTransport(new FakeResponse(201));
        var e = new MirrorEvent("01M82QWT8X3ZDT3YZDPTR3GEB5", "fraud", DateTimeOffset.UnixEpoch, null, new Dictionary<string, string> { ["consumer"] = "c1" }, "c1",
            new Dictionary<string, MirroredGroup>(), new Dictionary<string, object>(), [KeyValuePair.Create("amount", 2.5f)], [], [new ModelOutput("1", "champion", [0.25f], null, true)], 1, 2);

        await new EventHubsMirrorSink(Client(transport, new RecordingCredential())).WriteAsync([e], CancellationToken.None);

        using var body = JsonDocument.Parse(transport.Requests.Single().Body!);
        Assert.Equal("c1", body.RootElement[0].GetProperty("BrokerProperties").GetProperty("PartitionKey").GetString());
        var back = MirrorEventJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(body.RootElement[0].GetProperty("Body").GetString()!));
        Assert.Equal(e.PredictionId, back.PredictionId);
        Assert.Equal(e.Features, back.Features);
    }
}
