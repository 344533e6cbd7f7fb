using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Tests.XGBoost;

/// <summary>
/// Hostile model files: the committed corpus (tools/fixtures/generate_hostile_models.py, each file judged
/// by real XGBoost 1.7.4), and a differential fuzz test that mutates the parity fixtures and holds every
/// mutation DarkShip accepts against XGBoost's own answer. Either a clean refusal, or XGBoost's scores.
/// </summary>
public sealed class HostileModelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "Fixtures", "hostile");

    public static IEnumerable<object[]> Cases() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Corpus, "expected.json"))).RootElement.EnumerateObject().Select(p => new object[] { p.Name });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Corpus_EachFile_IsRefusedCleanly_OrScoredAsXGBoostScoresIt(string name)
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Corpus, "expected.json"))).RootElement.GetProperty(name);
        var bytes = File.ReadAllBytes(Path.Combine(Corpus, name + ".json"));
        var watch = Stopwatch.StartNew();

        if (expected.GetProperty("expect").GetString() == "refuse")
        {
            var e = Assert.Throws<ModelFormatException>(() => XGBoostModelReader.Parse(bytes));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
        else
        {
            var model = XGBoostModelReader.Parse(bytes);
            var rows = Rows(Path.Combine(Corpus, "rows.json"), model.FeatureCount);
            var xgboost = expected.GetProperty("xgboost").GetProperty("predictions");
            for (var r = 0; r < rows.Length; r++)
            {
                var output = new float[model.GetOutputCount(OutputKind.Transformed)];
                model.Predict(rows[r], output);
                ParityTests.AssertClose([.. xgboost[r].EnumerateArray().Select(v => (float)v.GetDouble())], output, $"{name} row {r}");
            }
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{name} took {watch.Elapsed}");
    }

    [Fact]
    public void Fuzz_MutatedFixtures_AreRefusedCleanly_OrScoredAsXGBoostScoresThem()
    {
        var work = Directory.CreateTempSubdirectory("darkship-fuzz-");
        try
        {
            var random = new Random(20261201);
            var fixtures = new[] { "binary_logistic_gbtree", "multi_softprob_iris", "binary_logistic_dart", "binary_logistic_gblinear", "reg_squarederror_base_score" }
                .Select(n => File.ReadAllText(ParityFixture.Load(n).ModelPath)).ToArray();
            var accepted = new List<(string Path, int Width, int Outputs, float[][] Predictions)>();
            var rows = Rows(Path.Combine(Corpus, "rows.json"), 30);
            var refused = 0;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < 400 && watch.Elapsed < TimeSpan.FromSeconds(20); i++)
            {
                var text = Mutate(fixtures[random.Next(fixtures.Length)], random);
                XGBoostModel model;
                try
                {
                    model = XGBoostModelReader.Parse(Encoding.UTF8.GetBytes(text));
                }
                catch (ModelFormatException)
                {
                    refused++;
                    continue; // a clean refusal
                }

                var path = Path.Combine(work.FullName, $"m{i}.json");
                File.WriteAllText(path, text);
                var predictions = rows.Select(r =>
                {
                    var output = new float[model.GetOutputCount(OutputKind.Transformed)];
                    model.Predict(r.AsSpan(0, model.FeatureCount), output);
                    return output;
                }).ToArray();
                accepted.Add((path, model.FeatureCount, predictions[0].Length, predictions));
            }

            Assert.InRange(refused, 20, 390); // the mutations reach both sides
            Assert.True(accepted.Count >= 10, $"only {accepted.Count} mutations were accepted");
            // Where XGBoost scores a file DarkShip accepted, the answers must agree. Where it refuses (it is
            // stricter about things DarkShip does not read: JSON integer vs. float tokens, the version
            // member, per-node statistics) or crashes, there is no reference answer to differ from.
            var verdicts = Judge(Path.Combine(Corpus, "rows.json"), [.. accepted.Select(a => a.Path)]);
            var divergent = new List<string>();
            var compared = 0;
            foreach (var (path, _, outputs, predictions) in accepted)
            {
                var verdict = verdicts.GetProperty(path);
                if (verdict.GetProperty("verdict").GetString() != "scores")
                {
                    output.WriteLine($"{Path.GetFileName(path)}: DarkShip scores it, XGBoost {verdict}");
                    continue;
                }

                compared++;

                var xgboost = verdict.GetProperty("predictions");
                for (var r = 0; r < predictions.Length; r++)
                {
                    try
                    {
                        ParityTests.AssertClose([.. xgboost[r].EnumerateArray().Select(v => (float)v.GetDouble())], predictions[r], $"{Path.GetFileName(path)} row {r}");
                    }
                    catch (Xunit.Sdk.XunitException e)
                    {
                        divergent.Add(e.Message);
                        break;
                    }
                }
            }

            output.WriteLine($"{refused} mutations refused, {accepted.Count} accepted, {compared} compared with XGBoost's scores");
            Assert.True(compared >= 10, $"only {compared} accepted mutations had a reference score");
            Assert.True(divergent.Count == 0, string.Join("\n", divergent));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>One random change of the kinds a hostile or broken writer makes.</summary>
    private static string Mutate(string text, Random random)
    {
        var root = JsonNode.Parse(text)!;
        var numbers = new List<(JsonNode Parent, object Key)>();
        var members = new List<(JsonObject Parent, string Key)>();
        Collect(root, numbers, members);
        switch (random.Next(7))
        {
            case 0 when numbers.Count > 0: // a number changed
                var (parent, key) = numbers[random.Next(numbers.Count)];
                JsonNode value = random.Next(6) switch
                {
                    0 => JsonValue.Create(-1),
                    1 => JsonValue.Create(random.Next(0, 64)),
                    2 => JsonValue.Create(2),
                    3 => JsonValue.Create(random.NextDouble() * 2 - 1),
                    4 => JsonValue.Create(1e30),
                    _ => JsonValue.Create(0),
                };
                Set(parent, key, value);
                break;
            case 1 when members.Count > 0: // a member removed
                var (owner, name) = members[random.Next(members.Count)];
                owner.Remove(name);
                break;
            case 2: // a model parameter rewritten
                var p = root["learner"]!["learner_model_param"]!.AsObject();
                var param = new[] { "num_class", "num_feature", "num_target", "base_score" }[random.Next(4)];
                p[param] = new[] { "0", "1", "2", "3", "5", "-1", "0.5", "NaN", "1e39", "abc", "[0.2,0.3]" }[random.Next(11)];
                break;
            case 3: // two trees swapped, ids kept
                if (root["learner"]!["gradient_booster"]!["model"]?["trees"] is JsonArray { Count: > 1 } trees)
                {
                    int a = random.Next(trees.Count), b = random.Next(trees.Count);
                    var ta = trees[a]!.DeepClone();
                    trees[a] = trees[b]!.DeepClone();
                    trees[b] = ta;
                }

                break;
            case 4: // a tree's id changed
                if (root["learner"]!["gradient_booster"]!["model"]?["trees"] is JsonArray { Count: > 0 } ts)
                {
                    ts[random.Next(ts.Count)]!["id"] = random.Next(-1, ts.Count + 1);
                }

                break;
            case 5: // tree_info rewritten
                if (root["learner"]!["gradient_booster"]!["model"]?["tree_info"] is JsonArray { Count: > 0 } info)
                {
                    info[random.Next(info.Count)] = random.Next(-1, 4);
                }

                break;
            default: // a member written twice (text level)
                var serialized = root.ToJsonString();
                var marker = new[] { "\"model\":", "\"learner_model_param\":", "\"trees\":", "\"gradient_booster\":", "\"objective\":" }[random.Next(5)];
                var at = serialized.IndexOf(marker, StringComparison.Ordinal);
                return at < 0 ? serialized : serialized[..at] + marker + "{}," + serialized[at..];
        }

        return root.ToJsonString();
    }

    private static void Collect(JsonNode? node, List<(JsonNode, object)> numbers, List<(JsonObject, string)> members)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    members.Add((o, k));
                    if (v is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
                    {
                        numbers.Add((o, k));
                    }

                    Collect(v, numbers, members);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue value && value.GetValueKind() == JsonValueKind.Number)
                    {
                        numbers.Add((a, i));
                    }

                    Collect(a[i], numbers, members);
                }

                break;
        }
    }

    private static void Set(JsonNode parent, object key, JsonNode value)
    {
        if (parent is JsonObject o)
        {
            o[(string)key] = value;
        }
        else
        {
            ((JsonArray)parent)[(int)key] = value;
        }
    }

    private static float[][] Rows(string path, int width) =>
        [.. JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray()
            .Select(r => r.EnumerateArray().Take(width).Select(v => v.ValueKind == JsonValueKind.Null ? float.NaN : (float)v.GetDouble()).ToArray())];

    /// <summary>Real XGBoost's verdicts (tools/fixtures/xgboost_judge.py with Debian's python3-xgboost, which test.sh installs).</summary>
    private static JsonElement Judge(string rows, IReadOnlyList<string> models)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "xgboost_judge.py");
        var start = new ProcessStartInfo("/usr/bin/python3", [script, rows, .. models]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "the XGBoost judge did not finish");
        Assert.True(process.ExitCode == 0, $"the XGBoost judge failed (is python3-xgboost installed? test.sh installs it): {error.Result}");
        return JsonDocument.Parse(output.Result).RootElement;
    }
}
