using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;

namespace DarkShip.Functions.Apis;

internal static class ReadinessApi
{
    /// <summary>
    /// The host polls <c>GET /</c> every 25 ms and takes any HTTP answer for "started", then sends
    /// invocations. The handler is ready once it has read the model registry (before that it would
    /// answer predictions with 503 and fail ShadowScore and DriftMonitor invocations), so the answer
    /// waits for that first read, at most <c>Serving:ModelLoadWaitSeconds</c>: 200 the moment it
    /// completes, 503 if it has not by then. An immediate 503 would tell the host "started" before
    /// the instance is.
    /// </summary>
    public static IEndpointRouteBuilder MapReadiness(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", async (ModelCache models, ServingOptions options, TimeProvider time, CancellationToken cancellationToken) =>
                await models.WaitUntilLoadedAsync(options.ModelLoadWait, time, cancellationToken)
                    ? Results.Text("DarkShip handler ready")
                    : Results.Problem(
                        statusCode: StatusCodes.Status503ServiceUnavailable,
                        title: "Not ready",
                        detail: "The model registry has not been read yet; see the handler's log if this lasts."))
            .ExcludeFromDescription();
        return app;
    }
}
