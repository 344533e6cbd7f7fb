using System.Text.Json;
using DarkShip.Serving.Training;

namespace DarkShip.Serving.Tests.Training;

/// <summary>The baseline <c>darkship train</c> writes has numpy's decile edges and histogram counts (tools/fixtures/generate_baseline_fixtures.py).</summary>
public sealed class TrainingBaselineTests
{
    public static TheoryData<string> Cases()
    {
        using var doc = Fixture();
        return [.. doc.RootElement.GetProperty("cases").EnumerateObject().Select(c => c.Name)];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Deciles_AreNumpys(string name)
    {
        using var doc = Fixture();
        var c = doc.RootElement.GetProperty("cases").GetProperty(name);
        var values = c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();

        var (edges, counts) = TrainingBaseline.Deciles(values);

        var expected = c.GetProperty("edges").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(expected.Length, edges.Length);
        for (var i = 0; i < edges.Length; i++)
        {
            Assert.Equal(expected[i], edges[i], 1e-9);
        }

        Assert.Equal(c.GetProperty("counts").EnumerateArray().Select(v => v.GetInt64()), counts);
    }

    private static JsonDocument Fixture() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "baseline.json")));
}
