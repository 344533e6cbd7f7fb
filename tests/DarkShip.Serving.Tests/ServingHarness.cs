using System.Text;
using System.Text.Json.Nodes;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Serving.Tests;

/// <summary>The serving path over in-memory ports, a fake clock, and the demo fraud model (trained by demo/generate_demo.py with real XGBoost).</summary>
internal sealed class ServingHarness
{
    public static readonly DateTimeOffset Start = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    public ServingHarness(Func<InMemoryFeatureStore, IFeatureStore>? wrap = null, ServingOptions? options = null)
    {
        Options = options ?? new ServingOptions();
        Store = wrap?.Invoke(Features) ?? Features;
        Cache = new ModelCache(Registry, Registry, Store, NullLogger<ModelCache>.Instance);
        Scorer = new ModelScorer(Time, NullLogger<ModelScorer>.Instance);
        Service = new PredictionService(Cache, new FeatureReader(Store, Time, Options, NullLogger<FeatureReader>.Instance), Scorer, Mirror, Log, Time, Options, NullLogger<PredictionService>.Instance);
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public InMemoryFeatureStore Features { get; } = new();

    public IFeatureStore Store { get; }

    public InMemoryModelRegistry Registry { get; } = new();

    public ServingOptions Options { get; }

    public ModelCache Cache { get; }

    public ModelScorer Scorer { get; }

    public PredictionService Service { get; }

    public RecordingMirror Mirror { get; } = new();

    public RecordingLog Log { get; } = new();

    public static string DemoFolder => Path.Combine(AppContext.BaseDirectory, "Demo", "fraud");

    public static XGBoostModel DemoModel => XGBoostModelReader.Load(Path.Combine(DemoFolder, "model.json"));

    public static JsonObject DemoManifest() => JsonNode.Parse(File.ReadAllText(Path.Combine(DemoFolder, "manifest.json")))!.AsObject();

    /// <summary>A consumer and a store as the demo CSVs shape them, written an hour before <see cref="Start"/>.</summary>
    public void SeedEntities(string consumer = "c1", string store = "s9")
    {
        Features.Put("consumer", consumer, Start.AddHours(-1), new Dictionary<string, object>
        {
            ["txn_count_7d"] = 12.0, ["avg_amount_30d"] = 80.5, ["account_age_days"] = 30.0, ["is_verified"] = false,
        });
        Features.Put("store", store, Start.AddHours(-1), new Dictionary<string, object>
        {
            ["chargeback_rate_90d"] = 0.02, ["category"] = "gaming",
        });
    }

    /// <summary>Registers the demo model (or <paramref name="manifest"/>) as <paramref name="version"/> at <paramref name="stage"/>.</summary>
    public async Task<ModelVersion> RegisterAsync(string version, ModelStage stage, double share = 100, JsonObject? manifest = null, byte[]? model = null)
    {
        var modelPath = $"fraud/{version}/model.json";
        var manifestPath = $"fraud/{version}/manifest.json";
        var modelSha = await Registry.UploadAsync(modelPath, model ?? File.ReadAllBytes(Path.Combine(DemoFolder, "model.json")));
        var manifestSha = await Registry.UploadAsync(manifestPath, Encoding.UTF8.GetBytes((manifest ?? DemoManifest()).ToJsonString()));
        var registered = new ModelVersion("fraud", version, stage, share, modelPath, modelSha, manifestPath, manifestSha, Time.GetUtcNow());
        Assert.True(await Registry.TryAddAsync(registered));
        return registered;
    }

    public async Task<ModelVersion> ChangeAsync(string version, Func<ModelVersion, ModelVersion> change)
    {
        var current = (await Registry.ReadIfChangedAsync(null))!.Versions.Single(v => v.Version == version);
        var changed = change(current);
        Assert.True(await Registry.TryUpdateAsync([changed]));
        return changed;
    }

    public static PredictionRequest Request(string? consumer = "c1", string? store = "s9", double amount = 250, double hour = 3, string? requestId = null)
    {
        var entities = new Dictionary<string, string>();
        if (consumer is not null)
        {
            entities["consumer"] = consumer;
        }

        if (store is not null)
        {
            entities["store"] = store;
        }

        return new PredictionRequest(entities, new Dictionary<string, object?> { ["amount"] = amount, ["hour_of_day"] = hour }, requestId);
    }

    public sealed class RecordingMirror : IMirrorPublisher
    {
        public List<MirrorEvent> Events { get; } = [];

        public bool Accept { get; set; } = true;

        public bool TryPublish(MirrorEvent mirrorEvent)
        {
            if (Accept)
            {
                lock (Events)
                {
                    Events.Add(mirrorEvent);
                }
            }

            return Accept;
        }
    }

    public sealed class RecordingLog : IPredictionLog
    {
        public List<PredictionLogEntry> Entries { get; } = [];

        public bool TryAppend(PredictionLogEntry entry)
        {
            lock (Entries)
            {
                Entries.Add(entry);
            }

            return true;
        }
    }
}

/// <summary>A feature store whose reads never finish (and ignore cancellation), or fail.</summary>
internal sealed class BrokenFeatureStore(InMemoryFeatureStore schemas, bool hang) : IFeatureStore
{
    public int Reads;

    public ValueTask<FeatureRow?> GetLatestAsync(string group, string entityKey, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Reads);
        return hang ? new ValueTask<FeatureRow?>(new TaskCompletionSource<FeatureRow?>().Task) : throw new IOException("the table is down");
    }

    public ValueTask<FeatureRow?> GetAsOfAsync(string group, string entityKey, DateTimeOffset asOf, CancellationToken cancellationToken = default) =>
        GetLatestAsync(group, entityKey, cancellationToken);

    public ValueTask<IReadOnlyList<FeatureRow>> GetHistoryAsync(string group, string entityKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Reads);
        return hang ? new ValueTask<IReadOnlyList<FeatureRow>>(new TaskCompletionSource<IReadOnlyList<FeatureRow>>().Task) : throw new IOException("the table is down");
    }

    public ValueTask<FeatureGroupSchema?> GetSchemaAsync(string group, CancellationToken cancellationToken = default) => schemas.GetSchemaAsync(group, cancellationToken);
}

/// <summary>Counts point reads on top of an in-memory store.</summary>
internal sealed class CountingFeatureStore(InMemoryFeatureStore inner) : IFeatureStore
{
    public int Reads;

    public ValueTask<FeatureRow?> GetLatestAsync(string group, string entityKey, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Reads);
        return inner.GetLatestAsync(group, entityKey, cancellationToken);
    }

    public ValueTask<FeatureRow?> GetAsOfAsync(string group, string entityKey, DateTimeOffset asOf, CancellationToken cancellationToken = default) =>
        inner.GetAsOfAsync(group, entityKey, asOf, cancellationToken);

    public ValueTask<IReadOnlyList<FeatureRow>> GetHistoryAsync(string group, string entityKey, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        inner.GetHistoryAsync(group, entityKey, from, to, cancellationToken);

    public ValueTask<FeatureGroupSchema?> GetSchemaAsync(string group, CancellationToken cancellationToken = default) => inner.GetSchemaAsync(group, cancellationToken);
}
