using System.Collections.Concurrent;
using System.Text.Json;
using DarkShip.Functions.Definitions;
using DarkShip.Functions.Local;
using DarkShip.Functions.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Functions.Tests.Local;

public sealed class LocalEventHubConsumerTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(bool Succeeded, EventHubBatch Batch)> invocations = new();
    private WebApplication? handler;
    private int failuresLeft;

    public async Task InitializeAsync()
    {
        // A stand-in handler that parses each invocation with the real protocol reader and can be told to fail.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        handler = builder.Build();
        handler.MapPost("/ShadowScore", async (HttpContext context) =>
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body);
            var batch = EventHubBatch.Read(InvocationRequest.Parse(doc.RootElement.Clone()), "events");
            var fail = Interlocked.Decrement(ref failuresLeft) >= 0;
            invocations.Enqueue((!fail, batch));
            return fail ? Results.StatusCode(500) : Results.Json(new { Logs = new[] { "ok" } });
        });
        await handler.StartAsync();
    }

    public async Task DisposeAsync() => await handler!.DisposeAsync();

    [Fact]
    public async Task Run_FailedInvocation_RedeliversTheSameEventsThenCheckpoints()
    {
        failuresLeft = 1;
        var hub = new LocalEventHub("mirror", 1, TimeProvider.System);
        hub.Send([.. Enumerable.Range(0, 5).Select(i => new HubEvent($"e{i}", "c1"))]);

        await RunUntilDrainedAsync(hub, new RetryPolicy(3, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50)));

        var calls = invocations.ToArray();
        Assert.False(calls[0].Succeeded);
        Assert.True(calls[1].Succeeded);
        Assert.Equal(calls[0].Batch.Events.Select(e => e.SequenceNumber), calls[1].Batch.Events.Select(e => e.SequenceNumber));
        Assert.Equal(["e0", "e1", "e2", "e3", "e4"], calls.Where(c => c.Succeeded).SelectMany(c => c.Batch.Events).Select(e => e.Body));
    }

    [Fact]
    public async Task Run_RetriesExhausted_GivesUpAfterMaxRetriesAndMovesOn()
    {
        failuresLeft = 1000;
        var hub = new LocalEventHub("mirror", 1, TimeProvider.System);
        hub.Send([new HubEvent("poison", "c1")]);

        await RunUntilDrainedAsync(hub, new RetryPolicy(2, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10)));

        Assert.Equal(3, invocations.Count); // the first try and two retries
        Assert.Equal(0, hub.Backlog);
    }

    [Fact]
    public async Task Run_KeyedEvents_StayInOnePartitionInOrder_AndEveryEventIsDelivered()
    {
        var hub = new LocalEventHub("mirror", 4, TimeProvider.System);
        var sent = new List<HubEvent>();
        for (var i = 0; i < 200; i++)
        {
            sent.Add(new HubEvent($"{i}", $"customer-{i % 7}"));
        }

        hub.Send(sent);

        await RunUntilDrainedAsync(hub, retry: null, batchSize: 16);

        var delivered = invocations.SelectMany(c => c.Batch.Events.Select(e => (c.Batch.PartitionId, e))).ToList();
        Assert.Equal(200, delivered.Count);
        Assert.All(invocations, c => Assert.InRange(c.Batch.Events.Count, 1, 16));
        foreach (var customer in delivered.GroupBy(d => d.e.PartitionKey))
        {
            Assert.Single(customer.Select(d => d.PartitionId).Distinct());
            var order = customer.Select(d => int.Parse(d.e.Body, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(order.Order(), order);
        }

        Assert.True(delivered.Select(d => d.PartitionId).Distinct().Count() > 1, "seven keys should spread over several of four partitions");
    }

    private async Task RunUntilDrainedAsync(LocalEventHub hub, RetryPolicy? retry, int batchSize = 100)
    {
        using var client = new HttpClient { BaseAddress = new Uri(handler!.Urls.First()) };
        var invoker = new FunctionInvoker(client, TimeProvider.System, NullLogger<FunctionInvoker>.Instance);
        var function = new FunctionDefinition("ShadowScore", new EventHubTrigger("mirror", "MirrorHub", "shadow"), retry);
        var consumer = new LocalEventHubConsumer(hub, function, "shadow", invoker, new EventHubBatchOptions(batchSize), TimeProvider.System, NullLogger<LocalEventHubConsumer>.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = consumer.RunAsync(stop.Token);
        await hub.WaitUntilDrainedAsync(stop.Token);
        await stop.CancelAsync();
        await run;
        Assert.Equal(0, hub.Backlog);
    }
}
