using System.Text;
using System.Text.Json.Nodes;
using DarkShip.Functions.Hosting;
using DarkShip.Scoring.XGBoost;
using DarkShip.Serving.Features;
using DarkShip.Serving.Registry;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace DarkShip.Functions.Tests.Apis;

/// <summary>The handler app over in-memory stores with one scoring fixture as a model's champion.</summary>
internal static class FixtureApps
{
    /// <summary>The app with <paramref name="fixture"/>'s model as champion <paramref name="version"/> of <paramref name="name"/>, its manifest reading every column inline (f0, f1, …).</summary>
    public static WebApplicationFactory<Program> WithChampion(this WebApplicationFactory<Program> factory, string name, string version, string fixture, string output) =>
        factory.WithWebHostBuilder(b => b.ConfigureServices(services =>
        {
            var modelBytes = File.ReadAllBytes(TestPaths.Fixture(fixture, "model.json"));
            var model = XGBoostModelReader.Parse(modelBytes);
            var manifest = new JsonObject
            {
                ["name"] = name,
                ["output"] = output,
                ["features"] = new JsonArray([.. Enumerable.Range(0, model.FeatureCount).Select(i => (JsonNode?)new JsonObject { ["name"] = $"f{i}" })]),
            };
            var registry = new InMemoryModelRegistry();
            var modelSha = registry.UploadAsync("m", modelBytes).Result;
            var manifestSha = registry.UploadAsync("j", Encoding.UTF8.GetBytes(manifest.ToJsonString())).Result;
            Assert.True(registry.TryAddAsync(new ModelVersion(name, version, ModelStage.Champion, 100, "m", modelSha, "j", manifestSha, DateTimeOffset.UnixEpoch)).Result);
            services.AddInMemoryStores(new InMemoryFeatureStore(), registry).AddDiscardingMirror();
        }));
}
