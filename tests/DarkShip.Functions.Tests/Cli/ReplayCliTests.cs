using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Serving.Export;
using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Outcomes;

namespace DarkShip.Functions.Tests.Cli;

/// <summary><c>darkship replay</c>'s answers to bad input: a clear message and exit code 2, before any traffic is read.</summary>
public sealed class ReplayCliTests : IDisposable
{
    private static readonly DateTimeOffset From = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("darkship-replay");
    private readonly FileInfo model = new(Path.Combine(TestPaths.RepoRoot, "demo", "fraud", "model.json"));
    private readonly FileInfo manifest = new(Path.Combine(TestPaths.RepoRoot, "demo", "fraud", "manifest.json"));
    private readonly StringWriter error = new();
    private readonly InMemoryFeatureStore store = new();
    private readonly NoTraffic log = new();

    public ReplayCliTests()
    {
        store.Put("consumer", "c1", From, new Dictionary<string, object> { ["txn_count_7d"] = 1.0, ["avg_amount_30d"] = 1.0, ["account_age_days"] = 1.0, ["is_verified"] = true });
        store.Put("store", "s1", From, new Dictionary<string, object> { ["chargeback_rate_90d"] = 0.1, ["category"] = "grocery" });
    }

    public void Dispose()
    {
        error.Dispose();
        folder.Delete(recursive: true);
    }

    [Fact]
    public async Task A_valid_candidate_on_an_empty_range_reports_nothing_to_replay()
    {
        using var output = new StringWriter();
        Assert.Equal(0, await Cli(output).RunAsync("fraud", model, manifest, From, From.AddDays(1), null, CancellationToken.None));
        Assert.Contains("0 requests.", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("Nothing to replay", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, log.Hours.Count(h => h == From)); // the range was read, hour by hour
    }

    [Fact]
    public async Task A_range_that_ends_before_it_starts_is_refused()
    {
        Assert.Equal(2, await Cli().RunAsync("fraud", model, manifest, From, From, null, CancellationToken.None));
        Assert.Contains("--to must be after --from", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(log.Hours);
    }

    [Fact]
    public async Task A_missing_or_unreadable_model_is_refused()
    {
        Assert.Equal(2, await Cli().RunAsync("fraud", new FileInfo(Path.Combine(folder.FullName, "none.json")), manifest, From, From.AddDays(1), null, CancellationToken.None));
        Assert.Contains("none.json does not exist", error.ToString(), StringComparison.Ordinal);

        var broken = Path.Combine(folder.FullName, "broken.json");
        File.WriteAllText(broken, "{\"learner\":");
        Assert.Equal(2, await Cli().RunAsync("fraud", new FileInfo(broken), manifest, From, From.AddDays(1), null, CancellationToken.None));
        Assert.Contains("broken.json: not a model DarkShip can score", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(log.Hours);
    }

    [Fact]
    public async Task A_manifest_for_another_model_or_naming_features_the_store_lacks_is_refused()
    {
        Assert.Equal(2, await Cli().RunAsync("eta", model, manifest, From, From.AddDays(1), null, CancellationToken.None));
        Assert.Contains("manifest.json: it is for 'fraud', not 'eta'", error.ToString(), StringComparison.Ordinal);

        var other = JsonNode.Parse(File.ReadAllText(manifest.FullName))!.AsObject();
        other["features"]![2]!["property"] = "txn_count_8d";
        var file = Path.Combine(folder.FullName, "manifest.json");
        File.WriteAllText(file, other.ToJsonString());
        Assert.Equal(2, await Cli().RunAsync("fraud", model, new FileInfo(file), From, From.AddDays(1), null, CancellationToken.None));
        Assert.Contains("group 'consumer' has no property 'txn_count_8d'", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(log.Hours);
    }

    private ReplayCli Cli(TextWriter? output = null) => new(log, new InMemoryOutcomeStore(), store, new NoManifests(), TimeProvider.System, output ?? TextWriter.Null, error);

    private sealed class NoTraffic : IPredictionLogScanner
    {
        public List<DateTimeOffset> Hours { get; } = [];

        public IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, string? version = null, CancellationToken cancellationToken = default)
        {
            lock (Hours)
            {
                Hours.Add(hour); // hours are read a few at a time
            }

            return AsyncEnumerable.Empty<LoggedRow>();
        }
    }

    private sealed class NoManifests : IServedManifests
    {
        public ValueTask<ModelManifest?> FindAsync(string model, string version, CancellationToken cancellationToken = default) => ValueTask.FromResult<ModelManifest?>(null);
    }
}
