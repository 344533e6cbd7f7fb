namespace DarkShip.Serving.Outcomes;

/// <summary>What really happened to a prediction's subject: a label for its id, observed at some later time.</summary>
/// <param name="PredictionId">The id the prediction was answered with.</param>
/// <param name="Label">0/1 for a probability model, the class index for a multiclass one, the value for a regression.</param>
/// <param name="ObservedAt">When the outcome was observed (a chargeback weeks after the order).</param>
public sealed record Outcome(string PredictionId, double Label, DateTimeOffset ObservedAt);

/// <summary>Where an outcome stands after it was posted.</summary>
public enum OutcomeStatus
{
    /// <summary>Joined to the logged predictions of every version that scored the request.</summary>
    Joined,

    /// <summary>The same outcome was posted before: nothing changed.</summary>
    Duplicate,

    /// <summary>A different label or time for an outcome posted before: the new one replaced it.</summary>
    Updated,

    /// <summary>No logged prediction has this id (yet): kept, and joined again by JoinOutcomes while the prediction is recent.</summary>
    Unmatched,
}

/// <summary>An outcome as kept in the <c>Outcomes</c> table, joined or not.</summary>
/// <param name="Outcome">As posted.</param>
/// <param name="ReceivedAt">When DarkShip received it.</param>
/// <param name="Status"><see cref="OutcomeStatus.Joined"/> or <see cref="OutcomeStatus.Unmatched"/>.</param>
/// <param name="Versions">What it was joined to, as <c>model/version</c>.</param>
public sealed record OutcomeRecord(Outcome Outcome, DateTimeOffset ReceivedAt, OutcomeStatus Status, IReadOnlyList<string> Versions);

/// <summary>One version's logged prediction, as an outcome is joined to it.</summary>
public sealed record LoggedPrediction(string PredictionId, string Model, string Version, string Arm, bool Served, DateTimeOffset PredictedAt, float[] Scores);

/// <summary>
/// One version's prediction with its outcome: what metrics and the experiment test are computed from.
/// It carries the champion's scores on the same request, so a shadow or an experiment is compared with
/// the champion on the very same requests.
/// </summary>
/// <param name="Prediction">The version's logged prediction.</param>
/// <param name="Label">The outcome's label.</param>
/// <param name="ObservedAt">When the outcome was observed.</param>
/// <param name="ChampionVersion">The champion that scored the same request, when it did and is not this version.</param>
/// <param name="ChampionScores">Its scores.</param>
public sealed record LabelledPrediction(LoggedPrediction Prediction, double Label, DateTimeOffset ObservedAt, string? ChampionVersion, float[]? ChampionScores);

/// <summary>Reads the model log (<c>PredictionLog</c>) by prediction id.</summary>
public interface IPredictionLogReader
{
    /// <summary>Every version's logged prediction for <paramref name="predictionId"/> (of the model that answered it), found without knowing the model.</summary>
    Task<IReadOnlyList<LoggedPrediction>> FindLoggedAsync(string predictionId, CancellationToken cancellationToken = default);
}

/// <summary>The outcomes as posted (<c>Outcomes</c>) and joined to predictions (<c>LabelledPredictions</c>).</summary>
public interface IOutcomeStore
{
    /// <summary>The outcome posted for <paramref name="predictionId"/>, if any.</summary>
    Task<OutcomeRecord?> FindAsync(string predictionId, CancellationToken cancellationToken = default);

    /// <summary>Keeps <paramref name="record"/> (replacing one for the same id).</summary>
    Task SaveAsync(OutcomeRecord record, CancellationToken cancellationToken = default);

    /// <summary>Keeps the labelled predictions (replacing those for the same version and id).</summary>
    Task SaveLabelsAsync(IReadOnlyList<LabelledPrediction> labels, CancellationToken cancellationToken = default);

    /// <summary>Outcomes whose prediction was made in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    IAsyncEnumerable<OutcomeRecord> ReadByPredictionTimeAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>A version's labelled predictions made in [<paramref name="from"/>, <paramref name="to"/>), in prediction-time order.</summary>
    IAsyncEnumerable<LabelledPrediction> ReadLabelsAsync(string model, string version, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);
}
