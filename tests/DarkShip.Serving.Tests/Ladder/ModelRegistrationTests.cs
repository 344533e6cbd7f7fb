using System.Text;
using System.Text.Json.Nodes;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Models;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Serving.Tests.Ladder;

public sealed class ModelRegistrationTests
{
    private static readonly byte[] DemoModel = File.ReadAllBytes(Path.Combine(ServingHarness.DemoFolder, "model.json"));
    private static readonly LadderActor Actor = new("ops@test", "a test");

    private readonly ServingHarness h = new();
    private readonly InMemoryModelEventLog audit = new();
    private readonly CountingArtifacts artifacts;
    private readonly ModelRegistration registration;

    public ModelRegistrationTests()
    {
        h.SeedEntities();
        artifacts = new CountingArtifacts(h.Registry);
        registration = new ModelRegistration(h.Registry, artifacts, new ModelLadder(h.Registry, audit, h.Time, NullLogger<ModelLadder>.Instance), new ModelLoader(h.Features));
    }

    private static byte[] Manifest(Action<JsonObject>? change = null)
    {
        var manifest = ServingHarness.DemoManifest();
        change?.Invoke(manifest);
        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }

    [Fact]
    public async Task AGoodPair_IsUploadedWithItsHashes_RegisteredAndAudited()
    {
        var outcome = await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, Manifest()), Actor, CancellationToken.None);

        var registered = Assert.IsType<RegistrationOutcome.Registered>(outcome);
        var row = Assert.Single((await h.Registry.ReadAsync()).Versions);
        Assert.Equal(("1", ModelStage.Registered), (row.Version, row.Stage));
        Assert.Equal(registered.Version.ArtifactSha256, row.ArtifactSha256);
        Assert.Equal(DemoModel, await h.Registry.DownloadAsync(ModelArtifactPaths.Model("fraud", "1"), row.ArtifactSha256));
        Assert.Equal(Manifest(), await h.Registry.DownloadAsync(ModelArtifactPaths.Manifest("fraud", "1"), row.ManifestSha256));
        var e = Assert.Single(await audit.ReadAsync("fraud"));
        Assert.Equal(("register", "xgboost-json", row.ArtifactSha256), (e.Action, e.Evidence["format"], e.Evidence["artifactSha256"]));
    }

    [Fact]
    public async Task EveryDefect_IsReportedAtOnce_AndNothingIsUploaded()
    {
        var manifest = Manifest(m =>
        {
            m["name"] = "eta";
            m["output"] = "multiclass"; // the model gives one output
            m.Remove("decision"); // (a probability model's)
            m.Remove("promotionMetric");
            m["features"]![2]!["property"] = "no_such_property";
        });

        var outcome = await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, manifest, "bad/version"), Actor, CancellationToken.None);

        var problems = Assert.IsType<RegistrationOutcome.Invalid>(outcome).Problems;
        Assert.Contains(problems, p => p.Contains("it is for 'eta', not 'fraud'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("the manifest says multiclass; the model gives 1 output(s)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("group 'consumer' has no property 'no_such_property'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'bad/version' is not a version label", StringComparison.Ordinal));
        Assert.Equal(0, artifacts.Uploads);
        Assert.Empty((await h.Registry.ReadAsync()).Versions);
    }

    [Fact]
    public async Task AModelFileThatIsNoModel_AndABrokenManifest_AreBothReported()
    {
        var outcome = await registration.RegisterAsync(new RegistrationRequest("fraud", "{\"learner\":"u8.ToArray(), "{\"name\":"u8.ToArray()), Actor, CancellationToken.None, "m.json", "x.json");

        var problems = Assert.IsType<RegistrationOutcome.Invalid>(outcome).Problems;
        Assert.Contains(problems, p => p.StartsWith("m.json: not a model DarkShip can score", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("x.json: ", StringComparison.Ordinal));
        Assert.Equal(0, artifacts.Uploads);
    }

    [Fact]
    public async Task TheSameVersionAgain_IsAlreadyRegistered_AndItsFilesAreNotTouched()
    {
        Assert.IsType<RegistrationOutcome.Registered>(await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, Manifest(), "7"), Actor, CancellationToken.None));
        var uploads = artifacts.Uploads;

        var again = await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, Manifest(), "7"), Actor, CancellationToken.None);

        Assert.Equal(new RegistrationOutcome.AlreadyRegistered("fraud", "7"), again);
        Assert.Equal(uploads, artifacts.Uploads);
    }

    [Fact]
    public async Task WithoutAVersion_TheManifestsIsUsed_ElseOneAboveTheHighestNumber()
    {
        static byte[] Unversioned(Action<JsonObject>? change = null) => Manifest(m =>
        {
            m.Remove("version");
            change?.Invoke(m);
        });

        await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, Manifest(), "4"), Actor, CancellationToken.None);
        await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, Manifest(), "beta"), Actor, CancellationToken.None);

        var next = await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, Unversioned()), Actor, CancellationToken.None);
        var named = await registration.RegisterAsync(new RegistrationRequest("fraud", DemoModel, Unversioned(m => m["version"] = "2026-12-rc1")), Actor, CancellationToken.None);

        Assert.Equal("5", Assert.IsType<RegistrationOutcome.Registered>(next).Version.Version);
        Assert.Equal("2026-12-rc1", Assert.IsType<RegistrationOutcome.Registered>(named).Version.Version);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("")]
    public async Task ANameThatIsNoKey_IsRefusedBeforeAnythingIsRead(string name)
    {
        var outcome = await registration.RegisterAsync(new RegistrationRequest(name, DemoModel, Manifest()), Actor, CancellationToken.None);

        Assert.Contains("is not a model name", Assert.Single(Assert.IsType<RegistrationOutcome.Invalid>(outcome).Problems), StringComparison.Ordinal);
        Assert.Equal(0, artifacts.Uploads);
    }

    private sealed class CountingArtifacts(IModelArtifactStore inner) : IModelArtifactStore
    {
        private int uploads;

        public int Uploads => Volatile.Read(ref uploads);

        public Task<string> UploadAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref uploads);
            return inner.UploadAsync(path, content, cancellationToken);
        }

        public Task<byte[]> DownloadAsync(string path, string sha256, CancellationToken cancellationToken = default) => inner.DownloadAsync(path, sha256, cancellationToken);
    }
}
