using System.Text;
using System.Text.Json.Nodes;
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

    [Theory]
    [InlineData("\"format\": \"xgboost-json\",", "xgboost-json")]
    [InlineData("\"format\": \"xgboost\",", "xgboost-json")]
    [InlineData("\"format\": \"mlnet\",", "mlnet")]
    [InlineData("\"format\": \"onnx\",", "onnx")]
    [InlineData("", null)]
    public void Format_NamesOneOfThree_OrIsLeftToTheFile(string member, string? expected)
    {
        var json = $$"""{ "name": "tier", {{member}} "output": "multiclass", "classes": ["bronze", "silver", "gold"], "features": [ { "name": "a" } ] }""";

        var manifest = ManifestReader.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(expected, manifest.Format);
        Assert.Equal(["bronze", "silver", "gold"], manifest.Classes);
    }

    [Fact]
    public void Parse_Defects_AreAllReportedByPath()
    {
        const string json = """
            { "name": "fraud", "output": "regression", "format": "tensorflow", "classes": ["a", "b"],
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

        Assert.Contains(e.Errors, m => m.StartsWith("format: 'tensorflow' is not one DarkShip scores (xgboost-json, mlnet, onnx", StringComparison.Ordinal));
        Assert.Contains("classes: only a multiclass model has class labels", e.Errors);
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

    private static JsonObject Demo() => ServingHarness.DemoManifest();

    private static ManifestException Refused(JsonNode manifest) =>
        Assert.Throws<ManifestException>(() => ManifestReader.Parse(Encoding.UTF8.GetBytes(manifest.ToJsonString())));

    [Theory]
    [InlineData("cacheSeconds")]
    [InlineData("maxAgeSeconds")]
    public void Parse_HugeDurations_AreDefectsByPath_NotOverflows(string which)
    {
        var m = Demo();
        if (which == "cacheSeconds")
        {
            m["groups"]!["store"]!["cacheSeconds"] = 1e20;
        }
        else
        {
            m["features"]![2]!["maxAgeSeconds"] = 1e20;
        }

        var e = Refused(m);

        Assert.Contains(e.Errors, x => x.Contains(which, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_InvalidUtf8_IsADefect_NotATranscodingError()
    {
        var bytes = Encoding.UTF8.GetBytes(Demo().ToJsonString());
        var at = Array.IndexOf(bytes, (byte)'f'); // inside "fraud"
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28; // an invalid two-byte sequence

        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(bytes));

        Assert.StartsWith($"not valid UTF-8 (byte {at})", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WhatTheLoaderCouldNeverLoad_IsRefusedAtRegistration()
    {
        var m = Demo();
        m["features"]![7]!["categories"] = new JsonArray("grocery", "grocery", "travel", "gaming");
        m["baseline"]!["features"]!["amount"]!["counts"]![0] = "12";
        m["baseline"]!["features"]!["hour_of_day"]!["counts"]![0] = 1e30;
        m["baseline"]!["features"]!["txn_count_7d"]!["counts"]![0] = -4;

        var e = Refused(m);

        Assert.Contains(e.Errors, x => x.StartsWith("features[7].categories: 'grocery' appears twice", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.StartsWith("baseline.features.amount.counts[0]:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.StartsWith("baseline.features.hour_of_day.counts[0]:", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.StartsWith("baseline.features.txn_count_7d.counts[0]:", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_DuplicateGroups_CommaEnums_AndInfiniteDefaults_AreRefused()
    {
        var text = Demo().ToJsonString().Replace("\"groups\":{", "\"groups\":{\"store\":{},", StringComparison.Ordinal)
            .Replace("\"output\":\"probability\"", "\"output\":\"regression,multiclass\"", StringComparison.Ordinal);
        var withDefault = JsonNode.Parse(Demo().ToJsonString())!;
        withDefault["features"]![0]!["default"] = 1e39;
        withDefault["features"]![0]!.AsObject().Remove("max");

        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(Encoding.UTF8.GetBytes(text)));
        var d = Refused(withDefault);

        Assert.Contains(e.Errors, x => x.StartsWith("groups.store: appears twice", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.StartsWith("output: 'regression,multiclass' is not one of", StringComparison.Ordinal));
        Assert.Contains(d.Errors, x => x.StartsWith("features[0].default: 1E+39 is not a finite 32-bit number", StringComparison.Ordinal));
    }

    [Fact]
    public void Fuzz_MutatedDemoManifests_AreRefusedByPath_OrLoadable()
    {
        var random = new Random(26);
        var demo = Demo().ToJsonString();
        for (var i = 0; i < 3000; i++)
        {
            var root = JsonNode.Parse(demo)!;
            var nodes = new List<(JsonNode Parent, object Key)>();
            Collect(root, nodes);
            var (parent, key) = nodes[random.Next(nodes.Count)];
            JsonNode? value = random.Next(9) switch
            {
                0 => null,
                1 => "x",
                2 => -1,
                3 => 1e39,
                4 => 1e300,
                5 => new JsonArray(),
                6 => new JsonObject(),
                7 => "regression,multiclass",
                _ => "9223372036854775808",
            };
            if (parent is JsonObject o)
            {
                o[(string)key] = value;
            }
            else
            {
                ((JsonArray)parent)[(int)key] = value;
            }

            ModelManifest manifest;
            try
            {
                manifest = ManifestReader.Parse(Encoding.UTF8.GetBytes(root.ToJsonString()));
            }
            catch (ManifestException e)
            {
                Assert.NotEmpty(e.Errors);
                continue;
            }

            // What registration accepts, the serving cache can load: the plan and the monitoring edges build.
            _ = new DarkShip.Serving.Models.FeaturePlan(manifest);
            _ = DarkShip.Serving.Monitoring.MonitoringEdges.From(manifest);
        }
    }

    private static void Collect(JsonNode? node, List<(JsonNode, object)> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    into.Add((o, k));
                    Collect(v, into);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    into.Add((a, i));
                    Collect(a[i], into);
                }

                break;
        }
    }
}
