namespace DarkShip.Functions.Apis;

internal static class OutcomesApi
{
    /// <summary>
    /// <c>POST /api/outcomes</c>: labels joined to logged predictions. The prediction log it joins
    /// against does not exist yet, so the route says so plainly instead of accepting labels it would lose.
    /// </summary>
    public static IEndpointRouteBuilder MapOutcomesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/outcomes", () => TypedResults.Problem(
            statusCode: StatusCodes.Status501NotImplemented,
            title: "Outcomes are not accepted yet",
            detail: "This deployment has no prediction log to join outcomes to; nothing was stored."));
        return app;
    }
}
