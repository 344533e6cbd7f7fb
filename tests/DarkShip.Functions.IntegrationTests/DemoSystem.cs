using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Local;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Configuration;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>What the end-to-end tests share: the local runner's settings on the shared Azurite, the seeded demo, and demo manifests under a test's own model name.</summary>
internal static class DemoSystem
{
    public static string Root { get; } = AzuriteFixture.RepositoryRoot();

    /// <summary>The runner's settings: the catalog's defaults, Azurite, the runner's own hub, a 1-second registry poll, and <paramref name="more"/>.</summary>
    public static LocalSettings Settings(AzuriteFixture azurite, IReadOnlyDictionary<string, string> more)
    {
        var values = new Dictionary<string, string>(Definitions.FunctionCatalog.SettingDefaults)
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["MirrorHub__fullyQualifiedNamespace"] = "127.0.0.1:7071",
            ["Serving__ModelRefreshSeconds"] = "1",
        };
        foreach (var (name, value) in more)
        {
            values[name] = value;
        }

        return new LocalSettings(values);
    }

    /// <summary>The storage account of <paramref name="azurite"/>.</summary>
    public static StorageAccount Account(AzuriteFixture azurite) =>
        StorageAccount.From(new ConfigurationBuilder().AddInMemoryCollection([KeyValuePair.Create("AzureWebJobsStorage", (string?)azurite.ConnectionString)]).Build());

    /// <summary>The demo seeded on Azurite (a no-op once done) and the registry's stores prepared.</summary>
    public static async Task<(StorageAccount Account, IModelRegistry Registry, IModelArtifactStore Artifacts, IModelEventLog Audit)> SeedAsync(AzuriteFixture azurite)
    {
        var account = Account(azurite);
        Assert.Equal(0, await DemoCommand.SeedAsync(await DemoCommand.StoresAsync(account, CancellationToken.None), new DirectoryInfo(Path.Combine(Root, "demo")), TextWriter.Null, TextWriter.Null, CancellationToken.None));
        var (registry, artifacts, audit) = await account.PrepareAsync(CancellationToken.None);
        return (account, registry, artifacts, audit);
    }

    /// <summary>The demo model file in <paramref name="folder"/>.</summary>
    public static FileInfo Model(string folder) => new(Path.Combine(Root, "demo", folder, "model.json"));

    /// <summary>The newest snapshot of <paramref name="entity"/> in a demo feature file (<c>consumer.csv</c>), by column name, as written in the file.</summary>
    public static Dictionary<string, string> LatestRow(string file, string entity)
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "demo", file));
        var header = lines[0].Split(',');
        var last = lines.Skip(1).Select(l => l.Split(',')).Where(f => f[0] == entity).MaxBy(f => DateTimeOffset.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture))!;
        return header.Zip(last).ToDictionary(p => p.First, p => p.Second);
    }

    /// <summary>The rows of a CSV with a header and no quoted commas (an export, a replay's output), by column name.</summary>
    public static List<Dictionary<string, string>> Csv(FileInfo file)
    {
        var lines = File.ReadAllLines(file.FullName);
        var header = lines[0].Split(',');
        return [.. lines.Skip(1).Select(l => header.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second))];
    }

    /// <summary>A copy of a demo manifest under another model name.</summary>
    public static FileInfo Manifest(string model, string folder)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "demo", folder, "manifest.json")))!.AsObject();
        manifest["name"] = model;
        manifest.Remove("version");
        var file = new FileInfo(Path.Combine(Path.GetTempPath(), $"{model}-{folder}-manifest.json"));
        File.WriteAllText(file.FullName, manifest.ToJsonString());
        return file;
    }
}
