using Microsoft.AspNetCore.Diagnostics;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// Turns exceptions into RFC 7807 problem details. Bad requests (malformed JSON, oversized bodies)
/// say what was wrong with the request; storage or the registry out of reach is a 503 with
/// <c>Retry-After</c> (nothing was stored: the caller should send it again); anything else is a 500
/// that never echoes exception text.
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The body may hold at most {HandlerLimits.MaxRequestBodyBytes} bytes."),
            BadHttpRequestException bad => (bad.StatusCode, "Bad request", "The request body is not valid JSON of the expected shape."),
            _ when IsOutage(exception) => (StatusCodes.Status503ServiceUnavailable, "Storage unavailable", "Storage could not be reached; nothing was stored. Send the request again."),
            _ => (StatusCodes.Status500InternalServerError, "Internal error", "The request failed; the error has been logged."),
        };

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            LogOutage(logger, exception, httpContext.Request.Path);
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (status >= 500)
        {
            LogUnhandled(logger, exception, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>Seconds a caller is asked to wait before sending a request storage could not take.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>Storage (or the registry behind it) out of reach, timing out or throttling: the request may succeed when sent again.</summary>
    internal static bool IsOutage(Exception e) => e switch
    {
        Azure.RequestFailedException { Status: 0 or 408 or 429 or >= 500 } => true,
        TimeoutException or HttpRequestException or System.Net.Sockets.SocketException or Serving.Models.ModelsNotReadyException => true,
        AggregateException a => a.InnerExceptions.All(IsOutage),
        _ => e.InnerException is { } inner && IsOutage(inner),
    };

    [LoggerMessage(EventId = 6500, EventName = "StorageOutage", Level = LogLevel.Warning, Message = "Storage out of reach on {Path}: answered 503 with Retry-After")]
    private static partial void LogOutage(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 6501, EventName = "UnhandledError", Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string path);
}
