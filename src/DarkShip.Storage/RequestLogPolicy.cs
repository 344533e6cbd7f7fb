using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging;

namespace DarkShip.Storage;

/// <summary>
/// A policy added to the SDK clients' pipelines (per try): one log line per try with its <c>x-ms-client-request-id</c> (what Azure support asks for),
/// status and duration. Only the path is logged, and with its entity keys taken out: queries carry
/// entity keys in their query string and point reads and writes in the path itself
/// (<c>/features(PartitionKey='c1',RowKey='latest')</c>), and an entity key may be a customer's id.
/// </summary>
internal sealed partial class RequestLogPolicy(string service, ILoggerFactory loggers) : HttpPipelinePolicy
{
    private readonly ILogger logger = loggers.CreateLogger("DarkShip.Storage." + service);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline, async: false).AsTask().GetAwaiter().GetResult();

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline, async: true);

    private async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, bool async)
    {
        var started = Stopwatch.GetTimestamp();
        var path = Redact(message.Request.Uri.Path);
        try
        {
            if (async)
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            }
            else
            {
                ProcessNext(message, pipeline);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTryFailed(logger, e, message.Request.Method.Method, path, message.Request.ClientRequestId, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }

        var status = message.Response.Status;
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        // A 404 on a read is an answer (no such entity or blob), not a fault worth a warning.
        if (message.ResponseClassifier.IsErrorResponse(message) && !(status == 404 && message.Request.Method == RequestMethod.Get))
        {
            LogTryError(logger, message.Request.Method.Method, path, status, message.Request.ClientRequestId, elapsed);
        }
        else
        {
            LogTry(logger, message.Request.Method.Method, path, status, message.Request.ClientRequestId, elapsed);
        }
    }

    /// <summary>The path with the keys of an entity address replaced: <c>/t(PartitionKey='c1',RowKey='x')</c> → <c>/t(…)</c>.</summary>
    internal static string Redact(string path)
    {
        var open = path.IndexOf('(', StringComparison.Ordinal);
        return open < 0 ? path : path[..open] + "(…)";
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} → {Status} (x-ms-client-request-id {RequestId}, {ElapsedMs:F1} ms)")]
    private static partial void LogTry(ILogger logger, string method, string path, int status, string requestId, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} → {Status} (x-ms-client-request-id {RequestId}, {ElapsedMs:F1} ms)")]
    private static partial void LogTryError(ILogger logger, string method, string path, int status, string requestId, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} failed without a response (x-ms-client-request-id {RequestId}, {ElapsedMs:F1} ms)")]
    private static partial void LogTryFailed(ILogger logger, Exception exception, string method, string path, string requestId, double elapsedMs);
}
