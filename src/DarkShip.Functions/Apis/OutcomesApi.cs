using System.Text.Json;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;

namespace DarkShip.Functions.Apis;

/// <summary>One outcome as posted: <c>{"predictionId": "…", "label": 1, "observedAt": "2026-11-20T10:00:00Z"}</c>.</summary>
/// <param name="PredictionId">The id the prediction was answered with.</param>
/// <param name="Label">A number (0/1 for a probability model, the class index, or the value), or true/false.</param>
/// <param name="ObservedAt">When it was observed (ISO 8601); the time of posting when omitted.</param>
internal sealed record OutcomeRequest(string? PredictionId, JsonElement? Label, DateTimeOffset? ObservedAt);

/// <summary>What became of one outcome: <c>joined</c>, <c>duplicate</c>, <c>updated</c> or <c>unmatched</c>, and the <c>model/version</c>s it joined.</summary>
internal sealed record OutcomeResponse(string PredictionId, string Status, IReadOnlyList<string> Versions);

/// <summary>The answer: every outcome's result in order, the counts, and the ids that matched no logged prediction (kept, and retried by JoinOutcomes).</summary>
internal sealed record OutcomeBatchResponse(int Joined, int Duplicates, int Updated, IReadOnlyList<string> Unmatched, IReadOnlyList<OutcomeResponse> Results);

internal static class OutcomesApi
{
    /// <summary>Most outcomes one call may carry.</summary>
    public const int MaxBatch = 1000;

    /// <summary>
    /// <c>POST /api/outcomes</c>: one outcome, or <c>{"outcomes": [...]}</c>. Every outcome is validated before
    /// any is stored (422 with field errors naming each bad one, and nothing stored); then each is kept and
    /// joined to the logged predictions of every version that scored its request.
    /// </summary>
    public static IEndpointRouteBuilder MapOutcomesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/outcomes", PostAsync);
        return app;
    }

    private static async Task<IResult> PostAsync(
        JsonElement body, OutcomeService outcomes, TimeProvider time, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        var options = json.Value.SerializerOptions;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        List<JsonElement> items;
        string prefix;
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("outcomes", out var batch))
        {
            if (batch.ValueKind != JsonValueKind.Array)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Wrong shape", detail: "\"outcomes\" is an array of outcomes.");
            }

            items = [.. batch.EnumerateArray()];
            prefix = "outcomes";
            if (items.Count is 0 or > MaxBatch)
            {
                errors["outcomes"] = [$"A batch holds 1 to {MaxBatch} outcomes; this one has {items.Count}."];
            }
        }
        else if (body.ValueKind == JsonValueKind.Object)
        {
            items = [body];
            prefix = "";
        }
        else
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Wrong shape",
                detail: "Post one outcome {\"predictionId\",\"label\",\"observedAt\"} or {\"outcomes\":[...]}.");
        }

        var now = time.GetUtcNow();
        var domain = new List<Outcome>(items.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Math.Min(items.Count, MaxBatch) && errors.Count < 100; i++)
        {
            var at = prefix.Length == 0 ? "" : $"{prefix}[{i}].";
            if (ToDomain(items[i].ValueKind == JsonValueKind.Object ? Read<OutcomeRequest>(items[i], options) : null, at, now, errors) is { } outcome)
            {
                if (!seen.Add(outcome.PredictionId))
                {
                    errors[at + "predictionId"] = [$"'{outcome.PredictionId}' appears more than once in this batch."];
                    continue;
                }

                domain.Add(outcome);
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.Problem(new HttpValidationProblemDetails(errors)
            {
                Status = StatusCodes.Status422UnprocessableEntity,
                Title = "Outcomes not accepted; nothing was stored",
                Type = "https://tools.ietf.org/html/rfc4918#section-11.2",
            });
        }

        var results = await outcomes.RecordAsync(domain, cancellationToken);
        return TypedResults.Ok(new OutcomeBatchResponse(
            results.Count(r => r.Status == OutcomeStatus.Joined),
            results.Count(r => r.Status == OutcomeStatus.Duplicate),
            results.Count(r => r.Status == OutcomeStatus.Updated),
            [.. results.Where(r => r.Status == OutcomeStatus.Unmatched).Select(r => r.PredictionId)],
            [.. results.Select(r => new OutcomeResponse(r.PredictionId, r.Status.ToString().ToLowerInvariant(), r.Versions))]));
    }

    /// <summary>The body as <typeparamref name="T"/>; a field of the wrong type reads as missing, and validation names it.</summary>
    private static T? Read<T>(JsonElement body, JsonSerializerOptions options)
        where T : class
    {
        try
        {
            return (T?)body.Deserialize(options.GetTypeInfo(typeof(T)));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Outcome? ToDomain(OutcomeRequest? request, string at, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        if (request is null)
        {
            errors[at.Length == 0 ? "body" : at.TrimEnd('.')] = ["An outcome is an object with predictionId, label and observedAt (ISO 8601)."];
            return null;
        }

        var ok = true;
        var id = PredictionId.Normalize(request.PredictionId); // the whole id checked, and in the one case the log is keyed by
        if (id is null)
        {
            errors[at + "predictionId"] = ["A prediction id is the 26-character id a prediction was answered with (Crockford base 32)."];
            ok = false;
        }

        double label = double.NaN;
        switch (request.Label)
        {
            case { ValueKind: JsonValueKind.Number } n when n.TryGetDouble(out var d) && double.IsFinite(d):
                label = d;
                break;
            case { ValueKind: JsonValueKind.True }:
                label = 1;
                break;
            case { ValueKind: JsonValueKind.False }:
                label = 0;
                break;
            default:
                errors[at + "label"] = ["A label is a finite number (0/1, a class index or a value) or true/false."];
                ok = false;
                break;
        }

        if (request.ObservedAt is { } observed && observed > now.AddDays(1))
        {
            errors[at + "observedAt"] = ["observedAt lies in the future."];
            ok = false;
        }

        return ok ? new Outcome(id!, label, request.ObservedAt ?? now) : null;
    }
}
