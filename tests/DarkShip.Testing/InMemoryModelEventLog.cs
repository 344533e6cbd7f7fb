using DarkShip.Serving.Registry;

namespace DarkShip.Testing;

/// <summary>The audit in process memory. For tests and benchmarks.</summary>
public sealed class InMemoryModelEventLog : IModelEventLog
{
    private readonly Lock gate = new();
    private readonly List<ModelEvent> events = [];

    /// <inheritdoc />
    public Task AppendAsync(ModelEvent modelEvent, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            events.Add(modelEvent);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelEvent>> ReadAsync(string model, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<ModelEvent>>([.. events.Where(e => e.Model == model).OrderBy(e => e.At)]);
        }
    }
}
