using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure;
using DarkShip.Functions.Hosting;
using DarkShip.Storage;
using DarkShip.Storage.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace DarkShip.Functions.Tests.Hosting;

/// <summary>The Azure SDK's own warnings reach ILogger; its per-request lines (URIs with entity keys) do not by default.</summary>
public sealed class AzureSdkLogsTests
{
    [Fact]
    public async Task ErrorResponse_IsForwardedAsAWarningWithItsRequestId_WithoutTheEntityKeys()
    {
        using var server = new RefusingServer();
        var loggers = new RecordingLoggers();
        using var logs = new AzureSdkLogs(loggers, new ConfigurationBuilder().Build());
        await logs.StartAsync(CancellationToken.None);
        var table = new StorageClients(StorageEndpoints.FromConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={StorageEndpoints.DevelopmentKey};TableEndpoint=http://127.0.0.1:{server.Port}/devstoreaccount1")).Table("features");

        // The listener hears every Azure SDK client in the process, other tests' too: this test's requests carry their own id.
        var requestId = Guid.NewGuid().ToString();
        var lines = new List<(LogLevel Level, string Category, string Message)>();
        for (var i = 0; i < 100 && !lines.Any(l => l.Level == LogLevel.Warning && l.Message.Contains(requestId, StringComparison.Ordinal)); i++) // the listener starts in the background
        {
            using (Azure.Core.Pipeline.HttpPipeline.CreateClientRequestIdScope(requestId))
            {
                var e = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetOrNullAsync("customer-4711", "latest"));
                Assert.Equal(403, e.Status);
            }

            lines = loggers.Lines.Where(l => l.Category.StartsWith("Azure.Sdk.", StringComparison.Ordinal)).ToList();
            await Task.Delay(20);
        }

        var warning = Assert.Single(lines.Where(l => l.Level == LogLevel.Warning && l.Message.Contains(requestId, StringComparison.Ordinal)).Take(1));
        Assert.Contains("403", warning.Message, StringComparison.Ordinal);
        Assert.All(lines, l => Assert.DoesNotContain("customer-4711", l.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Level < LogLevel.Warning);
    }

    /// <summary>Answers every request 403 with a Table-service error body.</summary>
    private sealed class RefusingServer : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);

        public RefusingServer()
        {
            listener.Start();
            _ = ServeAsync();
        }

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        public void Dispose() => listener.Stop();

        private async Task ServeAsync()
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptTcpClientAsync();
                    _ = Task.Run(async () =>
                    {
                        using (client)
                        {
                            var stream = client.GetStream();
                            var buffer = new byte[16384];
                            while (await stream.ReadAsync(buffer) is var read && read > 0)
                            {
                                if (!Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                                {
                                    continue;
                                }

                                const string Body = """{"odata.error":{"code":"AuthorizationFailure","message":{"lang":"en-US","value":"This request is not authorized."}}}""";
                                var response = $"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nx-ms-error-code: AuthorizationFailure\r\nContent-Length: {Body.Length}\r\n\r\n{Body}";
                                await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
                            }
                        }
                    });
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                // stopped
            }
        }
    }

    private sealed class RecordingLoggers : ILoggerFactory
    {
        private readonly Lock gate = new();
        private readonly List<(LogLevel, string, string)> lines = [];

        public IReadOnlyList<(LogLevel Level, string Category, string Message)> Lines
        {
            get
            {
                lock (gate)
                {
                    return [.. lines];
                }
            }
        }

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(RecordingLoggers owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.gate)
                {
                    owner.lines.Add((logLevel, category, formatter(state, exception)));
                }
            }
        }
    }
}
