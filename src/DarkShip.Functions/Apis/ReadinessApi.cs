namespace DarkShip.Functions.Apis;

internal static class ReadinessApi
{
    /// <summary>The host polls <c>GET /</c> until the handler answers before it sends any invocation.</summary>
    public static IEndpointRouteBuilder MapReadiness(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => TypedResults.Text("DarkShip handler ready")).ExcludeFromDescription();
        return app;
    }
}
