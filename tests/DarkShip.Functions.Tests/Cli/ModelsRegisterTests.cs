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
