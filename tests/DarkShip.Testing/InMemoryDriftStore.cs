using DarkShip.Serving.Monitoring;

namespace DarkShip.Testing;

/// <summary>Drift reports in process memory. For tests and benchmarks.</summary>
public sealed class InMemoryDriftStore : IDriftStore
{
    private readonly Lock gate = new();
    private readonly List<DriftReport> reports = [];

    /// <summary>Every report kept, oldest first.</summary>
    public IReadOnlyList<DriftReport> All
    {
        get
        {
            lock (gate)
            {
                return [.. reports];
            }
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(DriftReport report, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            reports.Add(report);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DriftReport>> LatestAsync(string model, string? version = null, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<DriftReport>>([.. reports
                .Where(r => r.Model == model && (version is null || r.Version == version))
                .GroupBy(r => r.Version)
                .Select(g => g.Last())
                .OrderBy(r => r.Version, StringComparer.Ordinal)]);
        }
    }
}
