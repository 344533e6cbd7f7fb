using DarkShip.Serving.Batching;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Testing;

/// <summary>Outcomes and a readable model log in process memory. For tests and benchmarks.</summary>
public sealed class InMemoryOutcomeStore : IOutcomeStore, IPredictionLogReader, IBatchSink<PredictionLogEntry>
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, OutcomeRecord> outcomes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string, string), LabelledPrediction> labels = [];
    private readonly Dictionary<(string, string, string), LoggedPrediction> log = [];

    /// <summary>How many times labelled predictions were written (one per <see cref="SaveLabelsAsync"/> call).</summary>
    public int LabelWrites { get; private set; }

    /// <inheritdoc />
    public Task<BatchDelivery> WriteAsync(IReadOnlyList<PredictionLogEntry> batch, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var e in batch)
            {
                log[(e.Model, e.PredictionId, e.Version)] = new LoggedPrediction(e.PredictionId, e.Model, e.Version, e.Arm, e.Served, e.Timestamp, e.Scores);
            }
        }

        return Task.FromResult(BatchDelivery.All(batch.Count));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LoggedPrediction>> FindLoggedAsync(string predictionId, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<LoggedPrediction>>([.. log.Values.Where(p => p.PredictionId == predictionId)]);
        }
    }

    /// <inheritdoc />
    public Task<OutcomeRecord?> FindAsync(string predictionId, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult(outcomes.GetValueOrDefault(predictionId));
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(OutcomeRecord record, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            outcomes[record.Outcome.PredictionId] = record;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task SaveLabelsAsync(IReadOnlyList<LabelledPrediction> labelled, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            LabelWrites++;
            foreach (var l in labelled)
            {
                labels[(l.Prediction.Model, l.Prediction.Version, l.Prediction.PredictionId)] = l;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<OutcomeRecord> ReadByPredictionTimeAsync(DateTimeOffset from, DateTimeOffset to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        List<OutcomeRecord> found;
        lock (gate)
        {
            found = [.. outcomes.Values
                .Where(o => DarkShip.Serving.Predictions.PredictionId.TimestampOf(o.Outcome.PredictionId) is { } at && at >= from && at < to)
                .OrderBy(o => o.Outcome.PredictionId, StringComparer.Ordinal)];
        }

        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var o in found)
        {
            yield return o;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LabelledPrediction> ReadLabelsAsync(string model, string version, DateTimeOffset from, DateTimeOffset to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        List<LabelledPrediction> found;
        lock (gate)
        {
            found = [.. labels.Values
                .Where(l => l.Prediction.Model == model && l.Prediction.Version == version && l.Prediction.PredictedAt >= from && l.Prediction.PredictedAt < to)
                .OrderBy(l => l.Prediction.PredictionId, StringComparer.Ordinal)];
        }

        await Task.CompletedTask.ConfigureAwait(false);
        foreach (var l in found)
        {
            yield return l;
        }
    }
}
