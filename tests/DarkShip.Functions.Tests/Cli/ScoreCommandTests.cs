using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;

namespace DarkShip.Functions.Tests.Cli;

public sealed class ScoreCommandTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("darkship-score-");

    public void Dispose() => dir.Delete(recursive: true);

    [Theory]
    [InlineData(".jsonl", false)]
    [InlineData(".csv", false)]
    [InlineData(".jsonl", true)]
    public async Task Run_FixtureRows_WritesXGBoostsPredictionsOnePerLine(string extension, bool margin)
    {
        var (rows, expected) = Fixture("multi_softprob_wine", margin ? "margin" : "transformed");
        var input = Write("rows" + extension, extension == ".csv"
            ? rows.Select(r => string.Join(",", r.Select(v => v?.ToString("R", CultureInfo.InvariantCulture) ?? "")))
            : rows.Select(r => JsonSerializer.Serialize(r)));
        var output = new FileInfo(Path.Combine(dir.FullName, "out.jsonl"));
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(new FileInfo(TestPaths.Fixture("multi_softprob_wine", "model.json")), input, margin, output, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(0, code);
        var lines = File.ReadAllLines(output.FullName);
        Assert.Equal(rows.Length, lines.Length);
        for (var r = 0; r < lines.Length; r++)
        {
            var actual = JsonSerializer.Deserialize<double?[]>(lines[r])!;
            for (var c = 0; c < expected[r].Length; c++)
            {
                if (expected[r][c] is { } e)
                {
                    Assert.Equal(e, actual[c]!.Value, Math.Max(1e-6, Math.Abs(e) * 1e-5));
                }
                else
                {
                    Assert.Null(actual[c]);
                }
            }
        }
    }

    [Fact]
    public async Task Run_BadRows_WithSkipBadRows_AreReportedByLineAndWrittenAsNull_ExitCode1()
    {
        var (rows, _) = Fixture("binary_logistic_gbtree", "transformed");
        var good = JsonSerializer.Serialize(rows[0]);
        var input = Write("rows.jsonl", [good, "[1, 2, 3]", good, "{\"a\": 1}", "[" + string.Join(",", Enumerable.Repeat("\"x\"", 30)) + "]", good]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(new FileInfo(TestPaths.Fixture("binary_logistic_gbtree", "model.json")), input, false, null, skipBadRows: true, stdout, stderr, CancellationToken.None);

        Assert.Equal(1, code);
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.Equal(["null", "null", "null"], new[] { lines[1], lines[3], lines[4] });
        Assert.Equal(lines[0], lines[5]);
        var errors = stderr.ToString();
        Assert.Contains("line 2: expected 30 values, found 3", errors, StringComparison.Ordinal);
        Assert.Contains("line 4: 'a' is not one of the model's inputs (f0, f1,", errors, StringComparison.Ordinal);
        Assert.Contains("line 5: value 1 ('f0') is String, not a number or null", errors, StringComparison.Ordinal);
        Assert.Contains("scored 3 rows, 3 bad rows", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rows.jsonl", "[1, 2, 3]", "expected 30 values, found 3")]
    [InlineData("rows.jsonl", "{\"a\": 1", "not valid JSON")]
    [InlineData("rows.csv", "1,2,3", "expected 30 values, found 3")]
    [InlineData("rows.csv", "1,\"2", "expected 30 values, found 2")]
    public async Task Run_AMalformedRow_Exits2WithTheFileAndLine_AndWritesNothing(string file, string bad, string reason)
    {
        var (rows, _) = Fixture("binary_logistic_gbtree", "transformed");
        var good = file.EndsWith(".csv", StringComparison.Ordinal) ? string.Join(",", rows[0].Select(v => v?.ToString("R", CultureInfo.InvariantCulture) ?? "")) : JsonSerializer.Serialize(rows[0]);
        var input = Write(file, [good, good, bad, good]);
        var output = new FileInfo(Path.Combine(dir.FullName, "out.jsonl"));
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(new FileInfo(TestPaths.Fixture("binary_logistic_gbtree", "model.json")), input, false, output, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.False(File.Exists(output.FullName)); // nothing written
        Assert.Contains($"{file} line 3:", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(reason, stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("nothing was written", stderr.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Run_CsvWithHeader_MapsColumnsByFeatureName(bool modelHasNames)
    {
        var (rows, expected) = Fixture("binary_logistic_gbtree", "transformed");
        var order = Enumerable.Range(0, 30).Reverse().ToArray(); // columns in reverse order
        var name = (int i) => modelHasNames ? $"mean_{i}" : $"f{i}"; // XGBoost's default names when the model has none
        var header = string.Join(",", order.Select(name));
        var line = string.Join(",", order.Select(i => rows[0][i]?.ToString("R", CultureInfo.InvariantCulture) ?? ""));
        var model = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("binary_logistic_gbtree", "model.json")))!;
        if (modelHasNames)
        {
            model["learner"]!["feature_names"] = new JsonArray([.. Enumerable.Range(0, 30).Select(i => JsonValue.Create(name(i)))]);
        }

        var stdout = new StringWriter();

        var code = await ScoreCommand.RunAsync(Write("m.json", [model.ToJsonString()]), Write("rows.csv", [header, line]), false, null, skipBadRows: false, stdout, new StringWriter(), CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Equal(expected[0][0]!.Value, double.Parse(stdout.ToString().Trim(), CultureInfo.InvariantCulture), 1e-6);
    }

    [Fact]
    public async Task Run_CsvHeaderNamingAnUnknownFeature_ExitCode2()
    {
        var model = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("binary_logistic_gbtree", "model.json")))!;
        model["learner"]!["feature_names"] = new JsonArray([.. Enumerable.Range(0, 30).Select(i => JsonValue.Create($"n{i}"))]);
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(Write("m.json", [model.ToJsonString()]), Write("rows.csv", ["n0,colour", "1,2"]), false, null, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("line 1: the header names 'colour'", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_CorruptModel_ExitCode2WithTheReason()
    {
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(Write("m.json", ["{\"learner\": {"]), Write("rows.jsonl", ["[1]"]), false, null, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.StartsWith("error: m.json:", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnsupportedInputExtension_ExitCode2()
    {
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(new FileInfo(TestPaths.Fixture("binary_logistic_gbtree", "model.json")), Write("rows.txt", ["1"]), false, null, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains(".csv or .jsonl", stderr.ToString(), StringComparison.Ordinal);
    }

    private static FileInfo Model(string fixture = "binary_logistic_gbtree") => new(TestPaths.Fixture(fixture, "model.json"));

    private static string Csv(double?[] row) => string.Join(",", row.Select(v => v?.ToString("R", CultureInfo.InvariantCulture) ?? ""));

    [Fact]
    public async Task Run_FirstDataRowWithABadCell_IsABadRow_NotAHeader_AndNoRowIsLost()
    {
        var (rows, _) = Fixture("binary_logistic_gbtree", "transformed");
        var bad = Csv(rows[0]).Split(',');
        bad[3] = "abc";
        var input = Write("rows.csv", [string.Join(",", bad), Csv(rows[1]), Csv(rows[2])]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(Model(), input, false, null, skipBadRows: true, stdout, stderr, CancellationToken.None);

        Assert.Equal(1, code);
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length); // one output per input row, still aligned
        Assert.Equal("null", lines[0]);
        Assert.Contains("line 1: column 4 ('abc') is not a number", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ModelWithDuplicateFeatureNames_AndAHeader_Exits2WithTheReason()
    {
        var model = JsonNode.Parse(File.ReadAllText(Model().FullName))!;
        model["learner"]!["feature_names"] = new JsonArray([.. Enumerable.Range(0, 30).Select(i => (JsonNode?)(i < 2 ? "same" : $"x{i}"))]);
        model["learner"]!["feature_types"] = new JsonArray([.. Enumerable.Range(0, 30).Select(_ => (JsonNode?)"float")]);
        var modelFile = Write("named.json", [model.ToJsonString()]);
        var input = Write("rows.csv", [string.Join(",", Enumerable.Range(0, 30).Select(i => i < 2 ? "same" : $"x{i}")), string.Join(",", Enumerable.Repeat("1", 30))]);
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(modelFile, input, false, null, skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("names feature 'same' more than once", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OutputIntoAMissingFolder_Exits2WithoutAStackTrace()
    {
        var (rows, _) = Fixture("binary_logistic_gbtree", "transformed");
        var input = Write("rows.csv", [Csv(rows[0])]);
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(Model(), input, false, new FileInfo(Path.Combine(dir.FullName, "no", "such", "out.jsonl")), skipBadRows: false, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("does not exist", stderr.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rows.csv", "1e400")]
    [InlineData("rows.csv", "Infinity")]
    [InlineData("rows.csv", "-Infinity")]
    [InlineData("rows.csv", "3.5e38")]
    [InlineData("rows.jsonl", "1e400")]
    [InlineData("rows.jsonl", "3.5e38")]
    public async Task Run_NumbersBeyondAFloat_AreBadRows_NotInfinities(string file, string value)
    {
        var cells = Enumerable.Repeat("1", 30).ToArray();
        cells[5] = value;
        var line = file.EndsWith(".csv", StringComparison.Ordinal) ? string.Join(",", cells) : "[" + string.Join(",", cells) + "]";
        var input = Write(file, [line, line.Replace(value, "2", StringComparison.Ordinal)]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await ScoreCommand.RunAsync(Model(), input, false, null, skipBadRows: true, stdout, stderr, CancellationToken.None);

        Assert.Equal(1, code);
        Assert.Equal("null", stdout.ToString().Split('\n')[0]);
        Assert.Contains("outside the range of a 32-bit float", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_AHugeLine_IsSkippedAsABadRow_WithoutHoldingIt()
    {
        var (rows, _) = Fixture("binary_logistic_gbtree", "transformed");
        var path = Path.Combine(dir.FullName, "rows.csv");
        await using (var w = new StreamWriter(path))
        {
            await w.WriteLineAsync(Csv(rows[0]));
            await w.WriteAsync(new string('9', RowFileReader.MaxLineChars(30) + 10)); // one line past the limit
            await w.WriteLineAsync();
            await w.WriteLineAsync(Csv(rows[1]));
        }

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await ScoreCommand.RunAsync(Model(), new FileInfo(path), false, null, skipBadRows: true, stdout, stderr, CancellationToken.None);

        Assert.Equal(1, code);
        var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("null", lines[1]);
        Assert.Contains("line 2: the line is longer than", stderr.ToString(), StringComparison.Ordinal);
    }

    private FileInfo Write(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(dir.FullName, name);
        File.WriteAllLines(path, lines);
        return new FileInfo(path);
    }

    private static (double?[][] Rows, double?[][] Expected) Fixture(string name, string kind)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(name, "cases.json")));
        double?[][] Read(string p) => [.. doc.RootElement.GetProperty(p).EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray())];
        return (Read("rows"), Read(kind));
    }
}
