using System.Text.Json;

namespace DarkShip.Scoring.Tests.XGBoost;

/// <summary>One case written by tools/fixtures/generate_xgboost_fixtures.py: rows and XGBoost's own predictions.</summary>
internal sealed record ParityFixture(string Name, string ModelPath, float[][] Rows, float[][] Margin, float[][] Transformed)
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "xgboost");

    public static IEnumerable<object[]> Names() =>
        Directory.GetDirectories(Root).Select(d => new object[] { Path.GetFileName(d) }).OrderBy(n => (string)n[0], StringComparer.Ordinal);

    public static ParityFixture Load(string name)
    {
        var folder = Path.Combine(Root, name);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "cases.json")));
        var root = doc.RootElement;
        return new ParityFixture(
            name,
            Path.Combine(folder, "model.json"),
            Matrix(root.GetProperty("rows")),
            Matrix(root.GetProperty("margin")),
            Matrix(root.GetProperty("transformed")));
    }

    private static float[][] Matrix(JsonElement rows) =>
        [.. rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? float.NaN : (float)v.GetDouble()).ToArray())];
}
