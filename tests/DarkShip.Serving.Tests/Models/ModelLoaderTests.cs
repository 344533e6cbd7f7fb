using System.Text;
using DarkShip.Scoring;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Tests.Models;

public sealed class ModelLoaderTests
{
    private static readonly byte[] DemoModel = File.ReadAllBytes(Path.Combine(ServingHarness.DemoFolder, "model.json"));

    private static readonly byte[] MLNetModel = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "mlnet", "binary_fasttree", "model.zip"));
    private static readonly byte[] OnnxModel = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", "named_inputs", "model.onnx"));

    [Fact]
    public void DetectFormat_KnowsAllThreeFormats_AndNothingElse()
    {
        Assert.Equal(ModelFormat.XGBoost, ModelLoader.DetectFormat(DemoModel));
        Assert.Equal(ModelFormat.XGBoost, ModelLoader.DetectFormat([0xEF, 0xBB, 0xBF, (byte)'\n', (byte)' ', .. DemoModel]));
        Assert.Equal(ModelFormat.MLNet, ModelLoader.DetectFormat(MLNetModel));
        Assert.Equal(ModelFormat.Onnx, ModelLoader.DetectFormat(OnnxModel));
        Assert.Null(ModelLoader.DetectFormat("not a model"u8));
        Assert.Null(ModelLoader.DetectFormat([]));
        Assert.Throws<ModelFormatException>(() => ModelLoader.Compile("PK\u0003\u0004"u8));
        Assert.Throws<ModelFormatException>(() => ModelLoader.Compile("not a model"u8));
    }

    [Fact]
    public async Task Check_AnMLNetModel_IsBoundToTheManifestByName_AndScores()
    {
        var loader = new ModelLoader(new ServingHarness().Features);

        var check = await loader.CheckAsync(MLNetModel, Manifest(format: null, ("IsNew", "boolean"), ("Category", "category"), ("Amount", "number"), ("Count", "number")), "fraud", CancellationToken.None);

        Assert.True(check.IsValid, string.Join("; ", check.Problems));
        Assert.Equal(ModelFormat.MLNet, check.Format);
        var direct = ModelLoader.Compile(MLNetModel); // the model's own column order: Amount, Count, IsNew, Category
        var (bound, own) = (new float[1], new float[1]);
        check.Model!.Predict([1f, 1f, 700f, 12f], bound); // manifest order: IsNew, Category (travel), Amount, Count
        direct.Predict([700f, 12f, 1f, direct.Inputs[3].Categories!.ToList().IndexOf("travel")], own);
        Assert.Equal(own, bound);
    }

    [Fact]
    public async Task Check_AnMLNetModelTheManifestDisagreesWith_ReportsEveryProblemByFile()
    {
        var loader = new ModelLoader(new ServingHarness().Features);

        var check = await loader.CheckAsync(MLNetModel, Manifest(format: "mlnet", ("Amount", "category"), ("Count", "number"), ("Extra", "number")), "fraud", CancellationToken.None, "model.zip", "manifest.json");

        Assert.False(check.IsValid);
        Assert.Contains(check.Problems, p => p.StartsWith("model.zip: ", StringComparison.Ordinal) && p.Contains("'Amount'", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.Contains("reads column 'IsNew'", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.Contains("reads column 'Category'", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.Contains("'Extra'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_AFormatTheFileIsNot_IsRefused()
    {
        var loader = new ModelLoader(new ServingHarness().Features);

        var check = await loader.CheckAsync(MLNetModel, Manifest(format: "onnx", ("Amount", "number")), "fraud", CancellationToken.None);

        Assert.Contains(check.Problems, p => p.Contains("the manifest says onnx, and the file is an ML.NET model", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_AnOnnxModelWithNamedInputs_IsBoundByName()
    {
        var loader = new ModelLoader(new ServingHarness().Features);

        var check = await loader.CheckAsync(OnnxModel, Manifest(format: "onnx", ("category", "category"), ("amount", "number"), ("is_new", "boolean")), "fraud", CancellationToken.None);

        Assert.True(check.IsValid, string.Join("; ", check.Problems));
        var output = new float[1];
        check.Model!.Predict([1f, 500f, 1f], output); // travel (0.2), amount 500 (1.0), new (0.5), bias −0.7
        Assert.Equal(1 / (1 + Math.Exp(-1.0)), output[0], 6);
    }

    /// <summary>A manifest whose features only the request carries (no feature store), with the labels the fixtures' category columns know.</summary>
    private static byte[] Manifest(string? format, params (string Name, string Type)[] features)
    {
        var manifest = new System.Text.Json.Nodes.JsonObject
        {
            ["name"] = "fraud",
            ["output"] = "probability",
            ["features"] = new System.Text.Json.Nodes.JsonArray([.. features.Select(f => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = f.Name,
                ["type"] = f.Type,
                ["categories"] = f.Type == "category" ? new System.Text.Json.Nodes.JsonArray("grocery", "travel", "online", "fuel") : null,
            })]),
        };
        if (format is not null)
        {
            manifest["format"] = format;
        }

        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
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
