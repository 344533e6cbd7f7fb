using System.Text;
using DarkShip.Scoring;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Tests.Models;

public sealed class ModelLoaderTests
{
    private static readonly byte[] DemoModel = File.ReadAllBytes(Path.Combine(ServingHarness.DemoFolder, "model.json"));

    [Fact]
    public void DetectFormat_XGBoostJson_EvenAfterABomAndWhitespace_AndNothingElse()
    {
        Assert.Equal(ModelFormat.XGBoost, ModelLoader.DetectFormat(DemoModel));
        Assert.Equal(ModelFormat.XGBoost, ModelLoader.DetectFormat([0xEF, 0xBB, 0xBF, (byte)'\n', (byte)' ', .. DemoModel]));
        Assert.Null(ModelLoader.DetectFormat("PK\u0003\u0004"u8));
        Assert.Null(ModelLoader.DetectFormat([]));
        Assert.Throws<ModelFormatException>(() => ModelLoader.Compile("PK\u0003\u0004"u8));
    }

    [Fact]
    public void Compile_ScoresAsTheEngineDoes()
    {
        var model = ModelLoader.Compile(DemoModel);
        var row = Enumerable.Range(0, model.FeatureCount).Select(i => (float)i / 3).ToArray();
        var (mine, engine) = (new float[1], new float[1]);

        model.Predict(row, mine);
        ServingHarness.DemoModel.Predict(row, engine);

        Assert.Equal(engine, mine);
    }

    [Fact]
    public async Task Load_ARegisteredVersion_IsCheckedAndReady()
    {
        var h = new ServingHarness();
        h.SeedEntities();
        var version = await h.RegisterAsync("1", ModelStage.Champion);

        var loaded = await new ModelLoader(h.Features).LoadAsync(version, h.Registry, CancellationToken.None);

        Assert.Equal(version, loaded.Version);
        Assert.Equal("fraud", loaded.Manifest.Name);
        Assert.Equal(loaded.Manifest.Features.Count, loaded.Model.FeatureCount);
    }

    [Fact]
    public async Task Load_AFileChangedSinceRegistration_IsRefused()
    {
        var h = new ServingHarness();
        h.SeedEntities();
        var version = await h.RegisterAsync("1", ModelStage.Champion);
        await h.Registry.UploadAsync(version.ArtifactPath, Encoding.UTF8.GetBytes("{}"));

        await Assert.ThrowsAsync<ModelArtifactException>(() => new ModelLoader(h.Features).LoadAsync(version, h.Registry, CancellationToken.None));
    }

    [Fact]
    public async Task Load_AManifestForAnotherModel_IsRefusedWithTheReason()
    {
        var h = new ServingHarness();
        h.SeedEntities();
        var manifest = ServingHarness.DemoManifest();
        manifest["name"] = "eta";
        var version = await h.RegisterAsync("1", ModelStage.Champion, manifest: manifest);

        var e = await Assert.ThrowsAsync<ManifestException>(() => new ModelLoader(h.Features).LoadAsync(version, h.Registry, CancellationToken.None));

        Assert.Contains("manifest: it is for 'eta', not 'fraud'", e.Errors);
    }

    [Fact]
    public async Task CheckManifest_AloneAgainstTheFeatureStore()
    {
        var h = new ServingHarness();
        var loader = new ModelLoader(h.Features);
        var bytes = Encoding.UTF8.GetBytes(ServingHarness.DemoManifest().ToJsonString());

        var (missing, problems) = await loader.CheckManifestAsync(bytes, CancellationToken.None, "m.json");
        h.SeedEntities();
        var (found, none) = await loader.CheckManifestAsync(bytes, CancellationToken.None);

        Assert.Null(missing);
        Assert.Contains(problems, p => p.Contains("holds no ingested features", StringComparison.Ordinal));
        Assert.NotNull(found);
        Assert.Empty(none);
    }
}
