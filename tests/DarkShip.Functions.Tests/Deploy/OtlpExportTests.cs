using System.Net;
using DarkShip.Functions.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DarkShip.Functions.Tests.Deploy;

/// <summary>The optional OTLP export, against a loopback stand-in for a collector (OTLP over HTTP).</summary>
[Collection(DarkShip.Functions.Tests.Deploy.TelemetryProvidersCollection.Name)]
public sealed class OtlpExportTests
{
    [Fact]
    public async Task With_an_endpoint_set_the_handlers_spans_and_metrics_go_to_the_collector()
    {
        var collector = new LoopbackHttpServer();
        var app = HandlerApp.Build(
            [$"--{OtlpExport.EndpointSetting}={collector.Url}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"],
            b =>
            {
                b.WebHost.UseUrls("http://127.0.0.1:0");
                b.Services.AddInMemoryStores(new InMemoryFeatureStore(), new InMemoryModelRegistry()).AddDiscardingMirror();
            });
        await app.StartAsync();
        using (var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) })
        {
            using var timer = await client.PostAsync("/DriftMonitor", new StringContent("""{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, timer.StatusCode);
        }

        Assert.True(app.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        Assert.True(app.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        await app.StopAsync();
        await app.DisposeAsync();
        await collector.DisposeAsync();
        var paths = collector.Requests.Select(r => r.Path).ToList();

        Assert.True(paths.Contains("/v1/traces"), string.Join(",", paths)); // the drift.run span
        Assert.Contains("/v1/metrics", paths);
    }
}
