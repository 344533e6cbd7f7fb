using System.Text.Json;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DarkShip.Functions.Tests.Deploy;

/// <summary>
/// The handler's telemetry through OpenTelemetry and the Azure Monitor exporter, against a loopback
/// stand-in for the Application Insights ingestion endpoint: what arrives is what the alerts and the
/// workbook query (see BicepTemplateTests), in the envelopes Application Insights stores.
/// </summary>
[Collection(DarkShip.Functions.Tests.Deploy.TelemetryProvidersCollection.Name)]
public sealed class AzureMonitorExportTests
{
    public AzureMonitorExportTests() =>
        Environment.SetEnvironmentVariable("APPLICATIONINSIGHTS_STATSBEAT_DISABLED", "true"); // the exporter's own usage telemetry would leave loopback

    [Fact]
    public async Task Metrics_spans_logs_and_exceptions_reach_the_ingestion_endpoint_in_the_shape_the_queries_read()
    {
        var envelopes = await ExportAsync([], app =>
        {
            DarkShipTelemetry.Transitions.Add(1, new("model", "fraud-exporter-test"), new("version", "7"), new("action", "rollback"), new("actor", "PromoteModels"));
            DarkShipTelemetry.Transitions.Add(1, new("model", "fraud-exporter-test"), new("version", "7"), new("action", "rollback"), new("actor", "PromoteModels"));
            DarkShipTelemetry.PredictDuration.Record(4, new KeyValuePair<string, object?>("model", "fraud-exporter-test"), new("stage", "total"));
            DarkShipTelemetry.PredictDuration.Record(6, new KeyValuePair<string, object?>("model", "fraud-exporter-test"), new("stage", "total"));
            for (var i = 0; i < 50; i++)
            {
                using var span = DarkShipTelemetry.Source.StartActivity("drift.run");
                span?.SetTag("exporter.test", i);
            }

            var loggers = app.Services.GetRequiredService<ILoggerFactory>();
            loggers.CreateLogger("DarkShip.Serving.Ladder.ModelLadder").LogWarning(new EventId(6100, "ModelTransition"), "ModelTransition {Model} version {Version} from {From} to {To}", "fraud-exporter-test", "7", "Shadow", "Retired");
            loggers.CreateLogger("DarkShip.Serving.Batching.BatchingQueue").LogError(new EventId(6401, "QueueItemsLost"), new HttpRequestException("connection refused (exporter test)"), "{Queue}: items lost", "mirror");
            loggers.CreateLogger("Microsoft.AspNetCore.Routing").LogInformation("not sent: framework information");
            loggers.CreateLogger("Microsoft.AspNetCore.Routing").LogWarning("sent: framework warning");
        });

        // customMetrics: name = the instrument's, its tags = customDimensions; a counter's sum and a histogram's count, sum, min, max.
        // (The meter is process-wide and other tests run beside this one: their measurements carry other models.)
        var transitions = Data(envelopes, "MetricData").Single(d => Metric(d).GetProperty("name").GetString() == "darkship.ladder.transitions" && Property(d, "model") == "fraud-exporter-test");
        Assert.Equal(2, Metric(transitions).GetProperty("value").GetDouble());
        Assert.Equal(("fraud-exporter-test", "7", "rollback", "PromoteModels"), (Property(transitions, "model"), Property(transitions, "version"), Property(transitions, "action"), Property(transitions, "actor")));
        var duration = Metric(Data(envelopes, "MetricData").Single(d => Metric(d).GetProperty("name").GetString() == "darkship.predict.duration" && Property(d, "model") == "fraud-exporter-test"));
        Assert.Equal((2, 10d, 4d, 6d), (duration.GetProperty("count").GetInt32(), duration.GetProperty("value").GetDouble(), duration.GetProperty("min").GetDouble(), duration.GetProperty("max").GetDouble()));

        // dependencies: every span (no rate limit of 5 a second), in-process, its tags as customDimensions.
        var spans = Data(envelopes, "RemoteDependencyData").Where(d => d.GetProperty("name").GetString() == "drift.run" && Property(d, "exporter.test") is not null).ToList();
        Assert.Equal(50, spans.Count);
        Assert.All(spans, s => Assert.Equal("InProc", s.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(0, 50), spans.Select(s => int.Parse(Property(s, "exporter.test")!, System.Globalization.CultureInfo.InvariantCulture)).Order());

        // traces: the structured values, EventId and EventName as customDimensions (the workbook's ladder reads them).
        var transition = Data(envelopes, "MessageData").Single(d => Property(d, "EventName") == "ModelTransition" && Property(d, "Model") == "fraud-exporter-test");
        Assert.Equal(("6100", "fraud-exporter-test", "7", "Shadow", "Retired"), (Property(transition, "EventId"), Property(transition, "Model"), Property(transition, "Version"), Property(transition, "From"), Property(transition, "To")));
        Assert.Equal("Warning", transition.GetProperty("severityLevel").GetString());
        Assert.Equal("ModelTransition fraud-exporter-test version 7 from Shadow to Retired", transition.GetProperty("message").GetString());

        // exceptions: a log with an exception, with its event and values.
        var lost = Data(envelopes, "ExceptionData").Single(d => Property(d, "EventName") == "QueueItemsLost" && d.GetRawText().Contains("exporter test", StringComparison.Ordinal));
        Assert.Equal("mirror", Property(lost, "Queue"));
        Assert.Contains("connection refused (exporter test)", lost.GetRawText(), StringComparison.Ordinal);

        // Framework Information stays on the console; framework warnings are shipped.
        var messages = Data(envelopes, "MessageData").Select(d => d.GetProperty("message").GetString()).ToList();
        Assert.DoesNotContain("not sent: framework information", messages);
        Assert.Contains("sent: framework warning", messages);
        Assert.All(envelopes, e => Assert.Equal("darkship-exporter-test", e.GetProperty("tags").GetProperty("ai.cloud.role").GetString()));
    }

    [Fact]
    public async Task A_sampling_ratio_of_zero_drops_spans_but_never_an_error_log_and_live_metrics_stay_off()
    {
        var envelopes = await ExportAsync([$"--{TelemetryExport.SamplingRatioSetting}=0"], app =>
        {
            using var span = DarkShipTelemetry.Source.StartActivity("promote.run");
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DarkShip.Serving.Ladder.ModelPromoter").LogError(new EventId(6501, "UnhandledError"), "inside an unsampled span");
        });

        Assert.DoesNotContain(Data(envelopes, "RemoteDependencyData"), d => d.GetProperty("name").GetString() is "promote.run" or "drift.run");
        Assert.Single(Data(envelopes, "MessageData"), d => d.GetProperty("message").GetString() == "inside an unsampled span");
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("all")]
    public void A_sampling_ratio_that_is_not_a_share_stops_the_start_naming_the_setting(string ratio)
    {
        var error = Assert.Throws<InvalidSettingException>(() => HandlerApp.Build(
            [$"--{AzureMonitorExport.ConnectionStringSetting}=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/", $"--{TelemetryExport.SamplingRatioSetting}={ratio}"],
            b => b.Services.AddInMemoryStores(new InMemoryFeatureStore(), new InMemoryModelRegistry()).AddDiscardingMirror()));
        Assert.Equal(TelemetryExport.SamplingRatioSetting, error.Setting);
        Assert.Contains($"'{TelemetryExport.SamplingRatioSetting}' is '{ratio}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_connection_string_or_an_endpoint_nothing_of_OpenTelemetry_is_registered()
    {
        await using var app = HandlerApp.Build([], b => b.Services.AddInMemoryStores(new InMemoryFeatureStore(), new InMemoryModelRegistry()).AddDiscardingMirror());
        Assert.Null(app.Services.GetService<MeterProvider>());
        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<LoggerProvider>());
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("Authorization=AAD", "")]
    [InlineData("ClientId=1234-abcd;Authorization=AAD", "1234-abcd")]
    [InlineData("ClientId=1234-abcd", null)]
    public void Entra_authentication_is_read_from_the_authentication_string(string? setting, string? clientId) =>
        Assert.Equal(clientId, AzureMonitorExport.ClientIdForEntra(setting));

    /// <summary>Builds the handler exporting to a loopback ingestion endpoint, runs <paramref name="emit"/>, flushes every provider and returns the envelopes received.</summary>
    private static async Task<List<JsonElement>> ExportAsync(string[] args, Action<WebApplication> emit)
    {
        var ingestion = new LoopbackHttpServer(_ => (200, "application/json", "{\"itemsReceived\":0,\"itemsAccepted\":0,\"errors\":[]}"u8.ToArray()));
        var app = HandlerApp.Build(
            [
                $"--{AzureMonitorExport.ConnectionStringSetting}=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={ingestion.Url}/;LiveEndpoint={ingestion.Url}/",
                $"--{TelemetryExport.ServiceNameSetting}=darkship-exporter-test",
                .. args,
            ],
            b =>
            {
                b.WebHost.UseUrls("http://127.0.0.1:0");
                b.Services.AddInMemoryStores(new InMemoryFeatureStore(), new InMemoryModelRegistry()).AddDiscardingMirror();
            });
        await app.StartAsync();
        emit(app);
        Assert.True(app.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        Assert.True(app.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        Assert.True(app.Services.GetRequiredService<LoggerProvider>().ForceFlush(10_000));
        await app.StopAsync();
        await app.DisposeAsync();
        await ingestion.DisposeAsync();

        Assert.DoesNotContain(ingestion.Requests, r => r.Path.Contains("QuickPulse", StringComparison.OrdinalIgnoreCase)); // live metrics off unless asked
        return [.. ingestion.Requests
            .Where(r => r.Path.EndsWith("/track", StringComparison.Ordinal))
            .SelectMany(r => r.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())];
    }

    private static IEnumerable<JsonElement> Data(IEnumerable<JsonElement> envelopes, string baseType) =>
        envelopes.Where(e => e.GetProperty("data").GetProperty("baseType").GetString() == baseType).Select(e => e.GetProperty("data").GetProperty("baseData"));

    private static JsonElement Metric(JsonElement data) => data.GetProperty("metrics")[0];

    private static string? Property(JsonElement data, string name) =>
        data.TryGetProperty("properties", out var properties) && properties.TryGetProperty(name, out var value) ? value.GetString() : null;
}
