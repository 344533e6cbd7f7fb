using Microsoft.AspNetCore.Diagnostics;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// Turns exceptions into RFC 7807 problem details. Bad requests (malformed JSON, oversized bodies)
/// say what was wrong with the request; anything else is a 500 that never echoes exception text.
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
            _ => (StatusCodes.Status500InternalServerError, "Internal error", "The request failed; the error has been logged."),
        };

        if (status >= 500)
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string path);
}
