using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
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
        var port = FreePort();
        using var ingestion = new HttpListener();
        ingestion.Prefixes.Add($"http://127.0.0.1:{port}/");
        ingestion.Start();
        var received = new List<string>();
        var serving = Task.Run(async () =>
        {
            while (ingestion.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await ingestion.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var bytes = body.ToArray();
                var text = context.Request.Headers["Content-Encoding"] == "gzip"
                    ? await new StreamReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)).ReadToEndAsync()
                    : System.Text.Encoding.UTF8.GetString(bytes);
                lock (received)
                {
                    received.Add(text);
                }

                context.Response.StatusCode = 200;
                await context.Response.OutputStream.WriteAsync("{\"itemsReceived\":1,\"itemsAccepted\":1,\"errors\":[]}"u8.ToArray());
                context.Response.Close();
            }
        });

        var exporter = new ApplicationInsightsExporter($"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:{port}/", null, TimeProvider.System);
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
        ingestion.Stop();
        await serving;

        var all = string.Join("\n", received);
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

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
