using System.Text.RegularExpressions;
using DarkShip.Serving.Predictions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DarkShip.Functions.Apis;

/// <summary>The body of <c>POST /api/predict/{model}</c>.</summary>
/// <param name="Entities">Entity keys by feature group, e.g. <c>{"consumer": "c1"}</c>.</param>
/// <param name="Features">Feature values given inline, by name; <see langword="null"/> means missing.</param>
/// <param name="RequestId">The caller's id for the request, echoed in logs.</param>
internal sealed record PredictRequest(Dictionary<string, string>? Entities, Dictionary<string, double?>? Features, string? RequestId);

/// <summary>The answer to one prediction.</summary>
internal sealed record PredictResponse(string PredictionId, string Model, string Version, string Arm, float? Score, float[]? Scores, IReadOnlyList<string> MissingFeatures);

/// <summary>The body of <c>POST /api/predict/{model}/batch</c>.</summary>
internal sealed record PredictBatchRequest(List<PredictRequest>? Rows);

internal static partial class PredictApi
{
    /// <summary>Most rows one batch call may carry.</summary>
    public const int MaxBatchRows = 100;

    public static IEndpointRouteBuilder MapPredictApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/predict");
        api.MapPost("/{model}", PredictAsync);
        api.MapPost("/{model}/batch", PredictBatchAsync);
        return app;
    }

    private static async Task<Results<Ok<PredictResponse>, ProblemHttpResult, ValidationProblem>> PredictAsync(
        string model, PredictRequest? request, PredictionService predictions, CancellationToken cancellationToken)
    {
        if (Validate(model, request is null ? 1 : 0) is { } invalid)
        {
            return invalid;
        }

        var outcome = await predictions.PredictAsync(model, request!.Features ?? [], cancellationToken);
        return outcome switch
        {
            PredictOutcome.Scored s => TypedResults.Ok(ToResponse(s)),
            PredictOutcome.InvalidFeatures f => TypedResults.ValidationProblem(f.Errors, title: "Unknown features", type: null, extensions: null),
            PredictOutcome.UnknownModel u => UnknownModel(u.Model),
            _ => throw new InvalidOperationException($"unexpected outcome {outcome}"),
        };
    }

    private static async Task<Results<Ok<PredictResponse[]>, ProblemHttpResult, ValidationProblem>> PredictBatchAsync(
        string model, PredictBatchRequest? request, PredictionService predictions, CancellationToken cancellationToken)
    {
        var rows = request?.Rows;
        if (Validate(model, rows is null ? 1 : 0) is { } invalid)
        {
            return invalid;
        }

        if (rows!.Count is 0 or > MaxBatchRows)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["rows"] = [$"A batch holds 1 to {MaxBatchRows} rows; this one has {rows.Count}."] });
        }

        var answers = new PredictResponse[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var outcome = await predictions.PredictAsync(model, rows[i]?.Features ?? [], cancellationToken);
            switch (outcome)
            {
                case PredictOutcome.Scored s:
                    answers[i] = ToResponse(s);
                    break;
                case PredictOutcome.UnknownModel u:
                    return UnknownModel(u.Model);
                case PredictOutcome.InvalidFeatures f:
                    return TypedResults.ValidationProblem(f.Errors.ToDictionary(e => $"rows[{i}].{e.Key}", e => e.Value), title: "Unknown features");
            }
        }

        return TypedResults.Ok(answers);
    }

    private static ValidationProblem? Validate(string model, int missingBody)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ModelName().IsMatch(model))
        {
            errors["model"] = ["A model name is 1 to 63 letters, digits, '-' or '_', starting with a letter or digit."];
        }

        if (missingBody != 0)
        {
            errors["body"] = ["A JSON body is required."];
        }

        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
    }

    private static ProblemHttpResult UnknownModel(string model) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown model", detail: $"No champion is registered for model '{model}'.");

    private static PredictResponse ToResponse(PredictOutcome.Scored s) =>
        new(s.PredictionId, s.Model, s.Version, "champion", s.Scores.Length == 1 ? s.Scores[0] : null, s.Scores.Length == 1 ? null : s.Scores, s.MissingFeatures);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]
    private static partial Regex ModelName();
}
