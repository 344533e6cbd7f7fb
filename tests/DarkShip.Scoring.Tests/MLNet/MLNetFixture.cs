using System.Text.Json;

namespace DarkShip.Scoring.Tests.MLNet;

/// <summary>One case written by tools/fixtures/mlnet (generate_mlnet_fixtures.sh): an ML.NET model, its signature, rows and ML.NET's own predictions.</summary>
internal sealed record MLNetFixture(string Name, byte[] Model, ModelSignature Signature, float[][] Rows, float[][] Predictions)
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "mlnet");

    public static TheoryData<string> Names() => [.. Directory.GetDirectories(Root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal)];

    public static MLNetFixture Load(string name)
    {
        var folder = Path.Combine(Root, name);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "cases.json")));
        var root = doc.RootElement;
        var task = root.GetProperty("task").GetString() switch
        {
            "probability" => ModelTask.Probability,
            "regression" => ModelTask.Regression,
            _ => ModelTask.Multiclass,
        };
        var inputs = Inputs(root.GetProperty("inputs"));
        var classes = root.GetProperty("classes") is { ValueKind: JsonValueKind.Array } k ? k.EnumerateArray().Select(c => c.GetString()!).ToList() : null;
        return new MLNetFixture(name, File.ReadAllBytes(Path.Combine(folder, "model.zip")), new ModelSignature(inputs, task, classes), Matrix(root.GetProperty("rows")), Matrix(root.GetProperty("predictions")));
    }

    public static List<ModelInput> Inputs(JsonElement inputs) =>
        [.. inputs.EnumerateArray().Select(i => new ModelInput(
            i.GetProperty("name").GetString()!,
            Enum.Parse<InputKind>(i.GetProperty("kind").GetString()!, ignoreCase: true),
            i.TryGetProperty("categories", out var c) ? [.. c.EnumerateArray().Select(l => l.GetString()!)] : null))];

    public static float[][] Matrix(JsonElement rows) =>
        [.. rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? float.NaN : (float)v.GetDouble()).ToArray())];
}
