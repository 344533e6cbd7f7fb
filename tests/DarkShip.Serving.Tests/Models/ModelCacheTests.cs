using System.Text;
using DarkShip.Serving.Features;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Tests.Models;

public sealed class ModelCacheTests
{
    private static async Task<ServingHarness> WithChampionAsync()
    {
        var h = new ServingHarness();
        h.SeedEntities();
        await h.RegisterAsync("1", ModelStage.Champion);
        Assert.True(await h.Cache.RefreshAsync());
        return h;
    }

    [Fact]
    public async Task Refresh_UnchangedRegistry_DoesNothing()
    {
        var h = await WithChampionAsync();

        Assert.False(await h.Cache.RefreshAsync());
    }

    [Fact]
    public async Task Reload_AChangeThatDidNotMoveTheRevision_IsServedAnyway()
    {
        var h = new ServingHarness();
        h.SeedEntities();
        await h.RegisterAsync("1", ModelStage.Champion);
        var cache = new DarkShip.Serving.Models.ModelCache(new StuckRevision(h.Registry), h.Registry, h.Store, Microsoft.Extensions.Logging.Abstractions.NullLogger<DarkShip.Serving.Models.ModelCache>.Instance);
        Assert.True(await cache.RefreshAsync());
        await h.ChangeAsync("1", v => v with { Stage = ModelStage.RolledBack });

        Assert.False(await cache.RefreshAsync()); // the poll sees no change
        Assert.NotNull(cache.Find("fraud"));
        Assert.True(await cache.ReloadAsync()); // the backstop reads everything

        Assert.Null(cache.Find("fraud"));
    }

    /// <summary>A registry whose revision never moves: what a change lost between two writes looked like.</summary>
    private sealed class StuckRevision(IModelRegistry inner) : IModelRegistry
    {
        public async Task<RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default) =>
            knownRevision == "stuck" ? null : (await inner.ReadIfChangedAsync(null, cancellationToken))! with { Revision = "stuck" };

        public Task<bool> TryAddAsync(ModelVersion version, CancellationToken cancellationToken = default) => inner.TryAddAsync(version, cancellationToken);

        public Task<bool> TryUpdateAsync(IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken = default) => inner.TryUpdateAsync(versions, cancellationToken);

        public Task<bool> TrySetRulesAsync(string model, PromotionRules rules, CancellationToken cancellationToken = default) => inner.TrySetRulesAsync(model, rules, cancellationToken);
    }

    [Fact]
    public async Task Refresh_NewChampion_SwapsAndStageChangesApply()
    {
        var h = await WithChampionAsync();
        await h.RegisterAsync("2", ModelStage.Champion);
        await h.ChangeAsync("1", v => v with { Stage = ModelStage.Retired });

        await h.Cache.RefreshAsync();

        Assert.Equal("2", h.Cache.Find("fraud")!.Champion!.Version.Version);
    }

    [Fact]
    public async Task Refresh_NewChampionWithTamperedFile_KeepsTheWorkingOne()
    {
        var h = await WithChampionAsync();
        var v2 = await h.RegisterAsync("2", ModelStage.Registered);
        await h.Registry.UploadAsync(v2.ArtifactPath, Encoding.UTF8.GetBytes("{\"not\":\"the registered file\"}"));
        await h.ChangeAsync("2", v => v with { Stage = ModelStage.Champion });
        await h.ChangeAsync("1", v => v with { Stage = ModelStage.Retired });

        await h.Cache.RefreshAsync();

        Assert.Equal("1", h.Cache.Find("fraud")!.Champion!.Version.Version);
    }

    [Fact]
    public async Task Refresh_ManifestReadingAPropertyTheGroupLacks_IsNotLoaded()
    {
        var h = await WithChampionAsync();
        var manifest = ServingHarness.DemoManifest();
        manifest["features"]![2]!["property"] = "txn_count_30d";
        await h.RegisterAsync("2", ModelStage.Shadow, manifest: manifest);

        await h.Cache.RefreshAsync();

        Assert.Empty(h.Cache.Find("fraud")!.Shadows);
    }

    [Fact]
    public async Task Refresh_FailedLoad_IsRetriedOnTheNextPoll()
    {
        var h = new ServingHarness();
        await h.RegisterAsync("1", ModelStage.Champion); // no features ingested yet: the manifest's groups are unknown
        await h.Cache.RefreshAsync();
        Assert.Null(h.Cache.Find("fraud"));

        h.SeedEntities();
        Assert.True(await h.Cache.RefreshAsync());

        Assert.Equal("1", h.Cache.Find("fraud")!.Champion!.Version.Version);
    }

    [Fact]
    public async Task Refresh_ExperimentAndShadows_FormTheLineup()
    {
        var h = await WithChampionAsync();
        await h.RegisterAsync("2", ModelStage.Experiment, share: 10);
        await h.RegisterAsync("3", ModelStage.Shadow, share: 1);
        await h.RegisterAsync("4", ModelStage.Registered);

        await h.Cache.RefreshAsync();

        var lineup = h.Cache.Find("fraud")!;
        Assert.Equal(("1", "2", "3"), (lineup.Champion!.Version.Version, lineup.Experiment!.Version.Version, Assert.Single(lineup.Shadows).Version.Version));
    }

    [Fact]
    public async Task Validate_SchemaTypeMismatch_IsNamed()
    {
        var store = new InMemoryFeatureStore();
        store.Put("consumer", "c1", ServingHarness.Start, new Dictionary<string, object> { ["txn_count_7d"] = "many", ["avg_amount_30d"] = 1.0, ["account_age_days"] = 1.0, ["is_verified"] = true });
        store.Put("store", "s1", ServingHarness.Start, new Dictionary<string, object> { ["chargeback_rate_90d"] = 0.1, ["category"] = "grocery" });
        var manifest = Serving.Manifests.ManifestReader.Parse(Encoding.UTF8.GetBytes(ServingHarness.DemoManifest().ToJsonString()));
        var schemas = new Dictionary<string, FeatureGroupSchema?> { ["consumer"] = await store.GetSchemaAsync("consumer"), ["store"] = await store.GetSchemaAsync("store") };

        var errors = Serving.Manifests.ManifestValidator.Validate(manifest, ServingHarness.DemoModel, schemas);

        Assert.Contains("txn_count_7d", Assert.Single(errors), StringComparison.Ordinal);
    }
}
