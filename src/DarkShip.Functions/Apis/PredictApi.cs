using System.Text.Json;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;

namespace DarkShip.Functions.Apis;

/// <summary>The body of <c>POST /api/predict/{model}</c>.</summary>
/// <param name="Entities">Entity keys by feature group, e.g. <c>{"consumer": "c1", "store": "s9"}</c>.</param>
/// <param name="Features">Inline values by feature name (number, boolean, category label or null); they win over stored values.</param>
/// <param name="RequestId">The caller's id for the request, carried into the mirror and the model log.</param>
internal sealed record PredictRequest(Dictionary<string, string>? Entities, Dictionary<string, JsonElement>? Features, string? RequestId);

/// <summary>The answer to one prediction.</summary>
internal sealed record PredictResponse(
    string PredictionId,
    string Model,
    string Version,
    string Arm,
    float? Score,
    float[]? Scores,
    string? Decision,
    IReadOnlyList<string> Degraded,
    IReadOnlyDictionary<string, double> FeatureAgeSeconds);

/// <summary>The body of <c>POST /api/predict/{model}/batch</c>.</summary>
internal sealed record PredictBatchRequest(List<PredictRequest>? Rows);

/// <summary>The answer to a batch, one prediction per row in order.</summary>
internal sealed record PredictBatchResponse(PredictResponse[] Predictions);

internal static class PredictApi
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

    private static async Task<IResult> PredictAsync(
        string model, PredictRequest? request, PredictionService predictions, ModelCache models, CancellationToken cancellationToken)
    {
        var errors = Validate(model, request is null);
        var row = request is null ? null : ToDomain(request, "", errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return await predictions.PredictAsync(model, row!, cancellationToken) switch
        {
            PredictOutcome.Scored s => TypedResults.Ok(ToResponse(s.Predictions[0], models)),
            var other => Refusal(other),
        };
    }

    private static async Task<IResult> PredictBatchAsync(
        string model, PredictBatchRequest? request, PredictionService predictions, ModelCache models, CancellationToken cancellationToken)
    {
        var errors = Validate(model, request?.Rows is null);
        if (request?.Rows is { Count: 0 or > MaxBatchRows } rows)
        {
            errors["rows"] = [$"A batch holds 1 to {MaxBatchRows} rows; this one has {rows.Count}."];
        }

        var domain = new List<PredictionRequest>();
        for (var i = 0; errors.Count == 0 && i < request!.Rows!.Count; i++)
        {
            if (request.Rows[i] is not { } r)
            {
                errors[$"rows[{i}]"] = ["A row is an object with entities and/or features."];
                continue;
            }

            domain.Add(ToDomain(r, $"rows[{i}].", errors));
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return await predictions.PredictAsync(model, domain, cancellationToken) switch
        {
            PredictOutcome.Scored s => TypedResults.Ok(new PredictBatchResponse([.. s.Predictions.Select(p => ToResponse(p, models))])),
            var other => Refusal(other),
        };
    }

    /// <summary>400 for a request that is not one: a bad model name or no body.</summary>
    private static Dictionary<string, string[]> Validate(string model, bool missingBody)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!ModelLadder.IsValidName(model))
        {
            errors["model"] = [ModelLadder.ModelNameRule];
        }

        if (missingBody)
        {
            errors["body"] = ["A JSON body is required."];
        }

        return errors;
    }

    private static PredictionRequest ToDomain(PredictRequest request, string prefix, Dictionary<string, string[]> errors)
    {
        Dictionary<string, object?>? features = null;
        if (request.Features is { } given)
        {
            features = new Dictionary<string, object?>(given.Count, StringComparer.Ordinal);
            foreach (var (name, value) in given)
            {
                features[name] = value.ValueKind switch
                {
                    JsonValueKind.Number => value.GetDouble(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.String when value.GetString() is "NaN" => double.NaN,
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Null => null,
                    _ => Invalid(errors, $"{prefix}features.{name}", "A feature value is a number, true/false, a category label or null."),
                };
            }
        }

        return new PredictionRequest(request.Entities, features, request.RequestId);
    }

    private static object? Invalid(Dictionary<string, string[]> errors, string field, string message)
    {
        errors[field] = [message];
        return null;
    }

    /// <summary>An outcome without a score, as problem details: 404, 422 with field errors, or 503.</summary>
    private static IResult Refusal(PredictOutcome outcome) => outcome switch
    {
        PredictOutcome.UnknownModel u => TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound, title: "Unknown model", detail: $"No version of model '{u.Model}' is serving."),
        PredictOutcome.Invalid i => TypedResults.Problem(new HttpValidationProblemDetails(i.Errors)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "The request cannot be scored as given",
            Type = "https://tools.ietf.org/html/rfc4918#section-11.2",
        }),
        PredictOutcome.Unavailable u => TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable, title: "Model unavailable", detail: u.Reason),
        _ => throw new InvalidOperationException($"unexpected outcome {outcome}"),
    };

    private static PredictResponse ToResponse(Prediction p, ModelCache models)
    {
        var multiclass = models.Find(p.Model)?.All.FirstOrDefault(m => m.Version.Version == p.Version)?.Manifest.Output == ModelOutput.Multiclass;
        return new PredictResponse(
            p.PredictionId, p.Model, p.Version, p.Arm,
            multiclass ? null : p.Scores[0],
            multiclass ? p.Scores : null,
            p.Decision, p.Degraded, p.FeatureAgeSeconds);
    }
}
