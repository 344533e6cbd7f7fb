using DarkShip.Serving.Models;

namespace DarkShip.Serving.Predictions;

/// <summary>What a prediction request came to: a score, or the reason there is none. Outcomes are values, not exceptions.</summary>
public abstract record PredictOutcome
{
    private PredictOutcome()
    {
    }

    /// <summary>The champion scored the row.</summary>
    public sealed record Scored(string PredictionId, string Model, string Version, float[] Scores, IReadOnlyList<string> MissingFeatures) : PredictOutcome;

    /// <summary>No champion is registered under that name.</summary>
    public sealed record UnknownModel(string Model) : PredictOutcome;

    /// <summary>The request named features the model does not have.</summary>
    public sealed record InvalidFeatures(IReadOnlyDictionary<string, string[]> Errors) : PredictOutcome;
}

/// <summary>Scores a request with the model's champion.</summary>
public sealed class PredictionService(IModelRegistry registry, TimeProvider time)
{
    /// <summary>
    /// Scores <paramref name="features"/> (by the model's feature names; absent or null values are missing)
    /// with the champion of <paramref name="model"/>.
    /// </summary>
    public async ValueTask<PredictOutcome> PredictAsync(string model, IReadOnlyDictionary<string, double?> features, CancellationToken cancellationToken = default)
    {
        var champion = await registry.FindChampionAsync(model, cancellationToken).ConfigureAwait(false);
        if (champion is null)
        {
            return new PredictOutcome.UnknownModel(model);
        }

        // A model saved without feature names answers to XGBoost's default names f0, f1, …
        var names = champion.Model.FeatureNames.Count > 0
            ? champion.Model.FeatureNames
            : [.. Enumerable.Range(0, champion.Model.FeatureCount).Select(i => $"f{i}")];
        var row = new float[champion.Model.FeatureCount];
        Array.Fill(row, float.NaN);
        var index = new Dictionary<string, int>(names.Count, StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            index[names[i]] = i;
        }

        var unknown = features.Keys.Where(k => !index.ContainsKey(k)).ToArray();
        if (unknown.Length > 0)
        {
            return new PredictOutcome.InvalidFeatures(unknown.ToDictionary(k => $"features.{k}", _ => new[] { $"'{model}' has no feature of that name." }));
        }

        var missing = new List<string>();
        for (var i = 0; i < names.Count; i++)
        {
            if (features.TryGetValue(names[i], out var value) && value is { } v)
            {
                row[i] = (float)v;
            }
            else
            {
                missing.Add(names[i]);
            }
        }

        var scores = new float[champion.Model.GetOutputCount(Scoring.OutputKind.Transformed)];
        champion.Model.Predict(row, scores);
        return new PredictOutcome.Scored(PredictionId.New(time), champion.Name, champion.Version, scores, missing);
    }
}
