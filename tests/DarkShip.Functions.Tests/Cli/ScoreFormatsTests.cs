using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;

namespace DarkShip.Functions.Tests.Cli;

/// <summary>
/// <c>darkship score --model</c> with ML.NET and ONNX files: rows as arrays in the model's input order or
/// objects keyed by input name, categories as their labels; the output is what each library gave for the
/// same rows (the committed fixtures).
/// </summary>
public sealed class ScoreFormatsTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("darkship-score-formats-");

    public void Dispose() => dir.Delete(recursive: true);

    [Theory]
    [InlineData("binary_fasttree", true)]
    [InlineData("binary_fasttree", false)]
    [InlineData("multiclass_lightgbm", true)]
    [InlineData("regression_fasttree", false)]
    public async Task AnMLNetModel_ScoresObjectsOrArrays_WithCategoriesAsText_AsMLNetDid(string name, bool objects)
    {
        var fixture = Load(Path.Combine("mlnet", name));
        var inputs = fixture["inputs"]!.AsArray();
        var labels = inputs[3]!["categories"]!.AsArray().Select(l => l!.GetValue<string>()).ToArray();
        var lines = fixture["rows"]!.AsArray().Select(r =>
        {
            var cells = r!.AsArray().Select((v, i) => i == 3 && v is not null ? JsonValue.Create(labels[v.GetValue<int>()]) : i == 2 ? JsonValue.Create(v!.GetValue<double>() == 1) : v?.DeepClone()).ToArray();
            return objects
                ? new JsonObject(cells.Select((c, i) => KeyValuePair.Create(inputs[i]!["name"]!.GetValue<string>(), c))).ToJsonString()
                : new JsonArray(cells).ToJsonString();
        });
        var input = Write("rows.jsonl", lines);
        var output = new FileInfo(Path.Combine(dir.FullName, "out.jsonl"));
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(new FileInfo(Fixture(Path.Combine("mlnet", name), "model.zip")), input, false, output, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.True(code == 0, stderr.ToString());
        var multiclass = fixture["task"]!.GetValue<string>() == "multiclass";
        var expected = fixture["predictions"]!.AsArray().Select(p => multiclass ? p!.AsArray().Select(v => v?.GetValue<double>()).ToArray() : [p![0]?.GetValue<double>()]).ToArray();
        AssertOutputs(expected, File.ReadAllLines(output.FullName));
    }

    [Fact]
    public async Task AnOnnxModel_ScoresArrays_AsXGBoostDid_AndRefusesMargin()
    {
        var fixture = Load(Path.Combine("onnx", "binary_logistic"));
        var input = Write("rows.jsonl", fixture["rows"]!.AsArray().Select(r => r!.ToJsonString()));
        var model = new FileInfo(Fixture(Path.Combine("onnx", "binary_logistic"), "model.onnx"));
        var output = new FileInfo(Path.Combine(dir.FullName, "out.jsonl"));
        var stderr = new StringWriter();

        Assert.Equal(0, await ScoreCommand.RunAsync(model, input, false, output, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None));
        AssertOutputs([.. fixture["transformed"]!.AsArray().Select(p => new[] { p![0]?.GetValue<double>() })], File.ReadAllLines(output.FullName), tolerance: 2e-6);

        Assert.Equal(2, await ScoreCommand.RunAsync(model, input, true, null, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None));
        Assert.Contains("model.onnx: this model gives no margin", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOnnxModelWithTextInputs_NeedsAManifestForItsLabels_AndScoresObjectsWithBooleansAndLabels()
    {
        var fixture = Load(Path.Combine("onnx", "named_inputs"));
        var labels = fixture["inputs"]![2]!["categories"]!.AsArray().Select(l => l!.GetValue<string>()).ToArray();
        var input = Write("rows.jsonl", fixture["rows"]!.AsArray().Select(r => new JsonObject
        {
            ["category"] = labels[r![2]!.GetValue<int>()],
            ["amount"] = r[0]?.DeepClone(),
            ["is_new"] = r[1]!.GetValue<double>() == 1,
        }.ToJsonString()));
        var output = new FileInfo(Path.Combine(dir.FullName, "out.jsonl"));
        var stderr = new StringWriter();

        var model = new FileInfo(Fixture(Path.Combine("onnx", "named_inputs"), "model.onnx"));
        var manifest = Write("manifest.json", [new JsonObject
        {
            ["name"] = "fraud",
            ["output"] = "probability",
            ["features"] = new JsonArray(
                new JsonObject { ["name"] = "amount" },
                new JsonObject { ["name"] = "is_new", ["type"] = "boolean" },
                new JsonObject { ["name"] = "category", ["type"] = "category", ["categories"] = new JsonArray([.. labels.Select(l => JsonValue.Create(l))]) }),
        }.ToJsonString()]);

        Assert.Equal(2, await ScoreCommand.RunAsync(model, input, false, output, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None));
        Assert.Contains("input 'category' is text, and the model does not say which labels it knows: give the labels in a manifest", stderr.ToString(), StringComparison.Ordinal);

        var code = await ScoreCommand.RunAsync(model, input, false, output, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None, manifest);

        Assert.True(code == 0, stderr.ToString());
        AssertOutputs([.. fixture["transformed"]!.AsArray().Select(p => new[] { p![0]?.GetValue<double>() })], File.ReadAllLines(output.FullName), tolerance: 2e-6);
    }

    [Fact]
    public async Task ATextValueForANumber_OrAnUnknownInput_IsABadRowByLine()
    {
        var input = Write("rows.jsonl", ["{\"Amount\": \"much\"}", "{\"Colour\": 1}", "[1, 2, true, 7]"]);
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(new FileInfo(Fixture(Path.Combine("mlnet", "binary_fasttree"), "model.zip")), input, false, null, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("line 1: 'Amount' is String, not a number or null", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("line 2: 'Colour' is not one of the model's inputs (Amount, Count, IsNew, Category)", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("line 3", stderr.ToString(), StringComparison.Ordinal); // a category's code is accepted (7: not a label the model knows, so missing)
    }

    private static void AssertOutputs(double?[][] expected, string[] lines, double tolerance = 1e-6)
    {
        Assert.Equal(expected.Length, lines.Length);
        for (var r = 0; r < lines.Length; r++)
        {
            var node = JsonNode.Parse(lines[r]);
            double?[] actual = node is JsonArray array ? [.. array.Select(v => v?.GetValue<double>())] : [node?.GetValue<double>()];
            Assert.Equal(expected[r].Length, actual.Length);
            for (var c = 0; c < actual.Length; c++)
            {
                if (expected[r][c] is { } e)
                {
                    Assert.True(Math.Abs(e - actual[c]!.Value) <= tolerance + (Math.Abs(e) * 1e-6), $"row {r} output {c}: expected {e}, got {actual[c]}");
                }
                else
                {
                    Assert.Null(actual[c]);
                }
            }
        }
    }

    private static string Fixture(string name, string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name, file);

    private static JsonObject Load(string name) => JsonNode.Parse(File.ReadAllText(Fixture(name, "cases.json")))!.AsObject();

    private FileInfo Write(string name, IEnumerable<string> lines)
    {
        var file = new FileInfo(Path.Combine(dir.FullName, name));
        File.WriteAllLines(file.FullName, lines);
        return file;
    }
}
