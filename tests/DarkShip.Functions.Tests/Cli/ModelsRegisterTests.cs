using DarkShip.Functions.Cli;
using DarkShip.Serving.Features;
using DarkShip.Serving.Ladder;

namespace DarkShip.Functions.Tests.Cli;

public sealed class ModelsRegisterTests
{
    [Theory]
    [InlineData("a/b")]
    [InlineData("a#b")]
    [InlineData("-leading")]
    [InlineData("")]
    public async Task Register_ANameThatIsNoKey_Exits2BeforeUploadingAnything(string name)
    {
        var registry = new CountingRegistry();
        var error = new StringWriter();
        var cli = new ModelsCli(registry, registry, new InMemoryModelEventLog(), new InMemoryMonitoringStore(), new InMemoryFeatureStore(), TimeProvider.System, TextWriter.Null, error);

        var manifest = new FileInfo(Path.GetTempFileName());
        var features = string.Join(",", Enumerable.Range(0, 30).Select(i => $"{{\"name\":\"f{i}\"}}"));
        await File.WriteAllTextAsync(manifest.FullName, $"{{\"name\":{System.Text.Json.JsonSerializer.Serialize(name)},\"output\":\"probability\",\"features\":[{features}]}}");

        var code = await cli.RegisterAsync(name, new FileInfo(TestPaths.Fixture("binary_logistic_gbtree", "model.json")), manifest, null,
            new LadderActor("test", "a test"), CancellationToken.None);
        manifest.Delete();

        Assert.Equal(ModelsCommand.BadInput, code);
        Assert.Equal(0, registry.Uploads);
        Assert.Contains("is not a model name", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_AnMLNetModelItsManifestDisagreesWith_Exits2WithEveryDefect_AndUploadsNothing()
    {
        var registry = new CountingRegistry();
        var error = new StringWriter();
        var cli = new ModelsCli(registry, registry, new InMemoryModelEventLog(), new InMemoryMonitoringStore(), new InMemoryFeatureStore(), TimeProvider.System, TextWriter.Null, error);
        var manifest = new FileInfo(Path.GetTempFileName());
        // Amount given as a category (the model reads Single), Count left out, an extra feature, and the wrong output kind.
        await File.WriteAllTextAsync(manifest.FullName, """
            { "name": "fraud", "output": "regression",
              "features": [ { "name": "Amount", "type": "category", "categories": ["a"] }, { "name": "IsNew", "type": "boolean" },
                            { "name": "Category", "type": "category", "categories": ["grocery"] }, { "name": "Extra" } ] }
            """);

        var code = await cli.RegisterAsync("fraud", new FileInfo(Path.Combine(AppContext.BaseDirectory, "Fixtures", "mlnet", "binary_fasttree", "model.zip")), manifest, null, new LadderActor("test", "a test"), CancellationToken.None);
        manifest.Delete();

        Assert.Equal(ModelsCommand.BadInput, code);
        Assert.Equal(0, registry.Uploads);
        var text = error.ToString();
        Assert.Contains("model.zip: not a model DarkShip can score with this manifest: output: the manifest says a regression; the ML.NET model is a binary classifier", text, StringComparison.Ordinal);
        Assert.Contains("features 'Amount': the manifest gives a category; the ML.NET model's column is Single", text, StringComparison.Ordinal);
        Assert.Contains("the ML.NET model reads column 'Count' (Single), which the manifest does not list", text, StringComparison.Ordinal);
        Assert.Contains("features 'Extra': the ML.NET model does not read it", text, StringComparison.Ordinal);
    }

    private sealed class CountingRegistry : Serving.Registry.IModelRegistry, Serving.Registry.IModelArtifactStore
    {
        private readonly InMemoryModelRegistry inner = new();

        public int Uploads { get; private set; }

        public Task<Serving.Registry.RegistrySnapshot?> ReadIfChangedAsync(string? knownRevision, CancellationToken cancellationToken = default) => inner.ReadIfChangedAsync(knownRevision, cancellationToken);

        public Task<bool> TryAddAsync(Serving.Registry.ModelVersion version, CancellationToken cancellationToken = default) => inner.TryAddAsync(version, cancellationToken);

        public Task<bool> TryUpdateAsync(IReadOnlyList<Serving.Registry.ModelVersion> versions, CancellationToken cancellationToken = default) => inner.TryUpdateAsync(versions, cancellationToken);

        public Task<bool> TrySetRulesAsync(string model, Serving.Registry.PromotionRules rules, CancellationToken cancellationToken = default) => inner.TrySetRulesAsync(model, rules, cancellationToken);

        public Task<string> UploadAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            Uploads++;
            return inner.UploadAsync(path, content, cancellationToken);
        }

        public Task<byte[]> DownloadAsync(string path, string sha256, CancellationToken cancellationToken = default) => inner.DownloadAsync(path, sha256, cancellationToken);
    }
}
