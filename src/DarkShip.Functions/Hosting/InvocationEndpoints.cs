using System.Text.Json;
using DarkShip.Functions.Protocol;

namespace DarkShip.Functions.Hosting;

/// <summary>Maps non-HTTP functions to <c>POST /{FunctionName}</c>, the custom-handler invocation protocol.</summary>
internal static partial class InvocationEndpoints
{
    public delegate Task<InvocationResponse> InvocationHandler(InvocationRequest request, IServiceProvider services, CancellationToken cancellationToken);

    public static RouteHandlerBuilder MapInvocation(this IEndpointRouteBuilder app, string functionName, InvocationHandler handler) =>
        app.MapPost("/" + functionName, async (HttpContext context, ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            var logger = loggers.CreateLogger("DarkShip.Functions." + functionName);
            InvocationRequest request;
            try
            {
                using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: cancellationToken);
                request = InvocationRequest.Parse(body.RootElement.Clone());
            }
            catch (Exception e) when (e is JsonException or InvocationFormatException)
            {
                LogBadPayload(logger, functionName, e.Message);
                return Results.Json(new InvocationResponse { Logs = [$"{functionName}: the invocation payload is malformed: {e.Message}"] }, HandlerJsonContext.Default.InvocationResponse, statusCode: StatusCodes.Status400BadRequest);
            }

            try
            {
                return Results.Json(await handler(request, context.RequestServices, cancellationToken), HandlerJsonContext.Default.InvocationResponse);
            }
            catch (InvocationFormatException e)
            {
                LogBadPayload(logger, functionName, e.Message);
                return Results.Json(new InvocationResponse { Logs = [$"{functionName}: {e.Message}"] }, HandlerJsonContext.Default.InvocationResponse, statusCode: StatusCodes.Status400BadRequest);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A non-2xx status tells the host the invocation failed, so its retry policy applies.
                LogFailed(logger, e, functionName);
                return Results.Json(new InvocationResponse { Logs = [$"{functionName} failed; see the handler's log."] }, HandlerJsonContext.Default.InvocationResponse, statusCode: StatusCodes.Status500InternalServerError);
            }
        }).ExcludeFromDescription();

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Function}: malformed invocation: {Reason}")]
    private static partial void LogBadPayload(ILogger logger, string function, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string function);
}
