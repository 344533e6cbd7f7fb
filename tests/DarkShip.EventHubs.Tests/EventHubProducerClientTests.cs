using System.Text.Json;
using Azure;
using Azure.Core;
using DarkShip.Serving.Mirror;
using DarkShip.Testing.Storage;

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
    public async Task Send_Unauthorised_CountsTheEventsAsFailedWithTheStatus()
    {
        var transport = new FakeTransport(new FakeResponse(401, "no"));

        var result = await Client(transport, new RecordingCredential()).SendAsync([new OutgoingEvent("x", null), new OutgoingEvent("y", null)]);

        Assert.Equal((0, 0, 2), (result.Sent, result.Refused, result.Failed));
        Assert.Equal(401, Assert.IsType<RequestFailedException>(result.Error).Status);
    }

    [Fact]
    public async Task Send_RequestRefusedAsBad_IsNarrowedToTheEventAtFault()
    {
        // The batch is refused (400); sent one by one, only the second event is refused again.
        var transport = new FakeTransport(new FakeResponse(400, "bad"), new FakeResponse(201), new FakeResponse(413, "too big"), new FakeResponse(201));

        var result = await Client(transport, new RecordingCredential()).SendAsync([new OutgoingEvent("a", null), new OutgoingEvent("b", null), new OutgoingEvent("c", null)]);

        Assert.Equal((2, 1, 0), (result.Sent, result.Refused, result.Failed));
    }

    [Fact]
    public async Task Send_AnEventLargerThanARequest_IsRefusedWithoutSending_TheOthersGo()
    {
        var transport = new FakeTransport(new FakeResponse(201));

        var result = await Client(transport, new RecordingCredential(), maxBytes: 1024).SendAsync([new OutgoingEvent("small", null), new OutgoingEvent(new string('x', 2000), null)]);

        Assert.Equal((1, 1, 0), (result.Sent, result.Refused, result.Failed));
        Assert.Single(transport.Requests);
    }

    [Fact]
    public async Task MirrorQueue_SecondRequestFailsEveryTry_TheFirstIsNeverSentAgain_AndTheRestIsCountedLost()
    {
        // Three requests' worth of events; the hub takes the first and fails the second on all four tries of the pipeline.
        var transport = new FakeTransport([new FakeResponse(201), .. Enumerable.Range(0, 4).Select(_ => new FakeResponse(503, "busy")), .. Enumerable.Range(0, 4).Select(_ => new FakeResponse(201))]);
        var producer = new EventHubProducerClient(new Uri("https://ns1.servicebus.windows.net/"), "mirror", new RecordingCredential(),
            new EventHubProducerClientOptions { Transport = transport, MaxRequestBytes = 64 * 1024, Retry = { MaxRetries = 3, Delay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) } });
        var queue = new DarkShip.Serving.Batching.BatchingQueue<MirrorEvent>("mirror", new EventHubsMirrorSink(producer), new DarkShip.Serving.Batching.BatchingOptions { MaxBatchSize = 500 },
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var events = Enumerable.Range(0, 300).Select(i => Event($"p{i:D5}", new string('x', 400))).ToList();
        foreach (var e in events)
        {
            queue.TryEnqueue(e);
        }

        queue.Start();
        await queue.StopAsync(TimeSpan.FromSeconds(30));

        var taken = transport.Requests.Take(1).SelectMany(r => JsonDocument.Parse(r.Body!).RootElement.EnumerateArray()).Count();
        var posted = transport.Requests.SelectMany(r => JsonDocument.Parse(r.Body!).RootElement.EnumerateArray().Select(e => e.GetProperty("Body").GetString())).ToList();
        Assert.Equal(5, transport.Requests.Count); // the first request, then four tries of the second; nothing after, nothing again
        Assert.Equal(posted.Count, posted.Count - taken + posted.Take(taken).Distinct().Count()); // the taken events were posted once
        Assert.Equal((taken, 300 - taken), ((int)queue.Delivered, (int)queue.Failed));
    }

    private static MirrorEvent Event(string id, string padding) =>
        new(id, "fraud", DateTimeOffset.UnixEpoch, padding, new Dictionary<string, string> { ["consumer"] = "c1" }, "c1",
            new Dictionary<string, MirroredGroup>(), new Dictionary<string, object>(), [KeyValuePair.Create("amount", 2.5f)], [], [new MirroredOutput("1", "champion", [0.25f], null, true)], 1, 2);

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
            new Dictionary<string, MirroredGroup>(), new Dictionary<string, object>(), [KeyValuePair.Create("amount", 2.5f)], [], [new MirroredOutput("1", "champion", [0.25f], null, true)], 1, 2);

        await new EventHubsMirrorSink(Client(transport, new RecordingCredential())).WriteAsync([e], CancellationToken.None);

        using var body = JsonDocument.Parse(transport.Requests.Single().Body!);
        Assert.Equal("c1", body.RootElement[0].GetProperty("BrokerProperties").GetProperty("PartitionKey").GetString());
        var back = MirrorEventJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(body.RootElement[0].GetProperty("Body").GetString()!));
        Assert.Equal(e.PredictionId, back.PredictionId);
        Assert.Equal(e.Features, back.Features);
    }
}
