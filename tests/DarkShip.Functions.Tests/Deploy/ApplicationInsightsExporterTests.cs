using DarkShip.Functions.Hosting;
using DarkShip.Serving.Telemetry;
using Microsoft.Extensions.Logging;

namespace DarkShip.Functions.Tests.Deploy;

/// <summary>The exporter against a loopback stand-in for the Application Insights ingestion endpoint.</summary>
public sealed class ApplicationInsightsExporterTests
{
    [Fact]
    public async Task Metrics_spans_and_logs_reach_the_ingestion_endpoint_with_their_dimensions()
    {
        var ingestion = new LoopbackHttpServer(_ => (200, "application/json", "{\"itemsReceived\":1,\"itemsAccepted\":1,\"errors\":[]}"u8.ToArray()));
        var exporter = new ApplicationInsightsExporter($"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint={ingestion.Url}/", null, TimeProvider.System);
        await exporter.StartAsync(CancellationToken.None);
        DarkShipTelemetry.Transitions.Add(1, new("model", "fraud-exporter-test"), new("version", "7"), new("action", "rollback"), new("actor", "PromoteModels"));
        DarkShipTelemetry.Transitions.Add(1, new("model", "fraud-exporter-test"), new("version", "7"), new("action", "rollback"), new("actor", "PromoteModels"));
        using (DarkShipTelemetry.Source.StartActivity("drift.run"))
        {
        }

        exporter.CreateLogger("DarkShip.Serving.Ladder.ModelLadder").LogWarning(new EventId(6100, "ModelTransition"), "ModelTransition {Model} version {Version}", "fraud-exporter-test", "7");
        exporter.CreateLogger("Microsoft.AspNetCore.Routing").LogInformation("not sent: another library's information");
        await exporter.StopAsync(CancellationToken.None);
        exporter.Dispose();
        await ingestion.DisposeAsync();

        var all = string.Join("\n", ingestion.Requests.Select(r => r.Body));
        Assert.Contains("\"name\":\"darkship.ladder.transitions\"", all, StringComparison.Ordinal);
        Assert.Matches("\"count\":2.*?\"value\":2|\"value\":2.*?\"count\":2", all); // two increments, pre-aggregated into one metric
        Assert.Contains("\"model\":\"fraud-exporter-test\"", all, StringComparison.Ordinal);
        Assert.Contains("\"actor\":\"PromoteModels\"", all, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"drift.run\"", all, StringComparison.Ordinal);
        Assert.Contains("\"EventName\":\"ModelTransition\"", all, StringComparison.Ordinal);
        Assert.Contains("\"Version\":\"7\"", all, StringComparison.Ordinal);
        Assert.DoesNotContain("another library's information", all, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("Authorization=AAD", "")]
    [InlineData("ClientId=1234-abcd;Authorization=AAD", "1234-abcd")]
    [InlineData("ClientId=1234-abcd", null)]
    public void Entra_authentication_is_read_from_the_authentication_string(string? setting, string? clientId) =>
        Assert.Equal(clientId, ApplicationInsightsExporter.ClientIdForEntra(setting));

}
