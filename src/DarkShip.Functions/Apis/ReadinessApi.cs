using DarkShip.Serving.Models;

namespace DarkShip.Functions.Apis;

internal static class ReadinessApi
{
    /// <summary>
    /// The host polls <c>GET /</c> until the handler answers before it sends any invocation. The
    /// handler is ready once it has read the model registry: before that it would answer predictions
    /// with 503 and fail ShadowScore and DriftMonitor invocations, so it says 503 here too.
    /// </summary>
    public static IEndpointRouteBuilder MapReadiness(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (ModelCache models) => models.IsLoaded
            ? Results.Text("DarkShip handler ready")
            : Results.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Not ready",
                detail: "The model registry has not been read yet; see the handler's log if this lasts."))
            .ExcludeFromDescription();
        return app;
    }
}
