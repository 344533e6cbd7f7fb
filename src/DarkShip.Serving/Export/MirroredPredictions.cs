using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;

namespace DarkShip.Serving.Export;

/// <summary>
/// The model-log rows a mirror event stands for, as the live path wrote them: one per version that
/// answered the request (a failed experiment wrote none), with the served version's input exactly as
/// the event carries it and its degraded reasons; a version that scored but was not served gets its own
/// input rebuilt from the event's group rows and inline values through its manifest's plan, as the live
/// path built it from the same reads (the mirror carries the served input only).
/// </summary>
public sealed class MirroredPredictions(IServedManifests manifests)
{
    private readonly Dictionary<(string Model, string Version), Task<FeaturePlan?>> plans = [];
    private readonly Lock gate = new();

    /// <summary>The rows of <paramref name="e"/> (only <paramref name="version"/>'s when given); <see cref="MirroredRows.Unbuilt"/> counts versions whose manifest the registry no longer has.</summary>
    public async Task<MirroredRows> RowsAsync(MirrorEvent e, string? version, CancellationToken cancellationToken)
    {
        var rows = new List<PredictionLogEntry>(e.Outputs.Count);
        var unbuilt = 0;
        foreach (var output in e.Outputs)
        {
            if (output.Error is not null || (version is not null && output.Version != version))
            {
                continue;
            }

            IReadOnlyList<KeyValuePair<string, float>> features;
            if (output.Served)
            {
                features = e.Features;
            }
            else if (await PlanAsync(e.Model, output.Version, cancellationToken).ConfigureAwait(false) is { } plan)
            {
                features = Rebuild(plan, e);
            }
            else
            {
                unbuilt++;
                continue;
            }

            rows.Add(new PredictionLogEntry(e.PredictionId, e.Model, output.Version, output.Arm, output.Served, e.Timestamp, e.RequestId,
                e.Entities, features, output.Scores, output.Decision, output.Served ? e.Degraded : [], e.TotalMilliseconds));
        }

        return new MirroredRows(rows, unbuilt);
    }

    private Task<FeaturePlan?> PlanAsync(string model, string version, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (!plans.TryGetValue((model, version), out var plan))
            {
                plans[(model, version)] = plan = FindAsync(model, version, cancellationToken);
            }

            return plan;
        }
    }

    private async Task<FeaturePlan?> FindAsync(string model, string version, CancellationToken cancellationToken) =>
        await manifests.FindAsync(model, version, cancellationToken).ConfigureAwait(false) is { } manifest ? new FeaturePlan(manifest) : null;

    private static KeyValuePair<string, float>[] Rebuild(FeaturePlan plan, MirrorEvent e)
    {
        var inline = new object?[plan.Features.Length];
        foreach (var (name, value) in e.Inline)
        {
            var column = plan.IndexOf(name);
            if (column >= 0)
            {
                inline[column] = value;
            }
        }

        var groupRows = new FeatureRow?[plan.Groups.Length];
        for (var g = 0; g < plan.Groups.Length; g++)
        {
            // Every group a live-path version read is in the event, found or not: what was read then is what it scored.
            if (e.Groups.TryGetValue(plan.Groups[g].Name, out var mirrored) && mirrored.Values is { } values && mirrored.AsOf is { } asOf)
            {
                groupRows[g] = new FeatureRow(asOf, values);
            }
        }

        var input = new float[plan.Features.Length];
        plan.Fill(inline, groupRows, e.Timestamp, input, new FeatureFallback[plan.Features.Length]);
        var named = new KeyValuePair<string, float>[input.Length];
        for (var i = 0; i < input.Length; i++)
        {
            named[i] = KeyValuePair.Create(plan.Features[i].Name, input[i]);
        }

        return named;
    }
}

/// <summary>A mirror event's model-log rows, and how many of its versions could not be rebuilt (no manifest).</summary>
public sealed record MirroredRows(IReadOnlyList<PredictionLogEntry> Rows, int Unbuilt);
