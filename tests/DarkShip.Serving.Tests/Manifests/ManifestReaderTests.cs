using System.Text;
using DarkShip.Serving.Manifests;

namespace DarkShip.Serving.Tests.Manifests;

public sealed class ManifestReaderTests
{
    [Fact]
    public void Parse_DemoManifest_ReadsEveryPart()
    {
        var manifest = ManifestReader.Parse(Encoding.UTF8.GetBytes(ServingHarness.DemoManifest().ToJsonString()));

        Assert.Equal(("fraud", ModelOutput.Probability, "consumer"), (manifest.Name, manifest.Output, manifest.AssignmentGroup));
        Assert.Equal(8, manifest.Features.Count);
        Assert.Null(manifest.Features[0].Group);
        Assert.Equal(3f, manifest.Features.Single(f => f.Name == "store_category").Categories!.ToList().IndexOf("gaming"));
        Assert.Equal(TimeSpan.FromMinutes(5), manifest.Groups.Single(g => g.Name == "store").CacheFor);
        Assert.Equal("review", manifest.Decision!.Decide(0.5f));
        Assert.NotNull(manifest.BaselineJson);
    }

    [Fact]
    public void Parse_Defects_AreAllReportedByPath()
    {
        const string json = """
            { "name": "fraud", "output": "regression", "format": "onnx",
              "groups": { "consumer": {} },
              "features": [
                { "name": "a", "group": "consumer", "default": 7, "min": 0, "max": 1 },
                { "name": "a", "group": "store" },
                { "name": "c", "type": "category" },
                { "name": "d", "type": "boolean", "default": 3 }
              ],
              "decision": { "threshold": 1.5, "above": "x", "below": "y" } }
            """;

        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Contains(e.Errors, m => m.StartsWith("format:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("features[0].default:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("features[1].group:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("features[1].name:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("features[2].categories:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("features[3].default:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("decision.threshold:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("decision:", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_NotJson_SaysWhere()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse("{\n\"name\": "u8.ToArray()));

        Assert.StartsWith("not valid JSON", Assert.Single(e.Errors), StringComparison.Ordinal);
    }
}
