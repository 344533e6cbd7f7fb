using System.Diagnostics.Tracing;
using Azure.Core.Diagnostics;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// Forwards the Azure SDK's own log (the <c>Azure-*</c> event sources of Azure.Core, Azure.Data.Tables,
/// Azure.Storage.Blobs, Azure.Identity) to <see cref="ILogger"/>, under the category <c>Azure.Sdk</c>
/// plus the source's name, for as long as the handler runs. It listens at <see cref="Level"/>
/// (Warning by default) through Azure.Core's own <see cref="AzureEventSourceListener"/>: a source
/// enabled at Verbose, as Microsoft.Extensions.Azure's forwarder enables them, formats a request line
/// and a response line with their headers for every storage call, which costs the predict path
/// measurably on a busy instance; and those lines carry each request's URI, whose entity keys are
/// customer ids. Warnings (error responses: request id, status, error code; no URI) are what
/// on-call needs. <c>AzureSdk__LogLevel=Informational</c> (or <c>Verbose</c>) shows every request when debugging.
/// </summary>
internal sealed class AzureSdkLogs(ILoggerFactory loggers, IConfiguration configuration) : IHostedService, IDisposable
{
    /// <summary>The setting naming the least event level forwarded.</summary>
    public const string LevelSetting = "AzureSdk:LogLevel";

    private readonly Lock gate = new();
    private AzureEventSourceListener? listener;
    private bool disposed;

    /// <summary>The least level forwarded: the setting's, else Warning.</summary>
    public EventLevel Level => Enum.TryParse<EventLevel>(configuration[LevelSetting], ignoreCase: true, out var level) ? level : EventLevel.Warning;

    /// <summary>Starts listening in the background: creating an event listener visits every event source in the process, which the host's readiness check need not wait for.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(
            () =>
            {
                var created = new AzureEventSourceListener(Forward, Level);
                lock (gate)
                {
                    if (disposed)
                    {
                        created.Dispose();
                    }
                    else
                    {
                        listener = created;
                    }
                }
            },
            CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            listener?.Dispose();
        }
    }

    private void Forward(EventWrittenEventArgs e, string message)
    {
        var logger = loggers.CreateLogger("Azure.Sdk." + e.EventSource.Name.Replace('-', '.'));
        var level = e.Level switch
        {
            EventLevel.Critical => LogLevel.Critical,
            EventLevel.Error => LogLevel.Error,
            EventLevel.Warning => LogLevel.Warning,
            EventLevel.Informational => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        if (logger.IsEnabled(level))
        {
#pragma warning disable CA1848, CA2254 // the SDK formats its own messages; there is no template to cache
            logger.Log(level, new EventId(e.EventId, e.EventName), message);
#pragma warning restore CA1848, CA2254
        }
    }
}
