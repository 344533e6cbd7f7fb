using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DarkShip.Functions.Tests.Deploy;

/// <summary>One query as Microsoft's Kusto language service analysed it.</summary>
/// <param name="Name">The query's name.</param>
/// <param name="Diagnostics">Every diagnostic, as <c>CODE message (at offset)</c>.</param>
/// <param name="Columns">The result's columns and their Kusto types.</param>
internal sealed record KqlCheck(string Name, IReadOnlyList<string> Diagnostics, IReadOnlyDictionary<string, string> Columns);

/// <summary>
/// Runs <c>tools/kql/check-queries.cjs</c> (Node.js and the pinned npm package
/// <c>@kusto/language-service-next</c>, installed by <c>npm ci</c>) on queries, against the
/// Application Insights tables in <c>tools/kql/application-insights.schema.json</c>.
/// </summary>
internal static class KqlChecker
{
    private static readonly string Tool = Path.Combine(TestPaths.RepoRoot, "tools", "kql", "check-queries.cjs");
    private static readonly string Schema = Path.Combine(TestPaths.RepoRoot, "tools", "kql", "application-insights.schema.json");

    public static IReadOnlyList<KqlCheck> Check(IEnumerable<(string Name, string Query)> queries)
    {
        Assert.True(Directory.Exists(Path.Combine(TestPaths.RepoRoot, "node_modules", "@kusto", "language-service-next")), "@kusto/language-service-next is not installed: run npm ci in the repository root");
        var input = new JsonArray([.. queries.Select(q => (JsonNode)new JsonObject { ["name"] = q.Name, ["query"] = q.Query })]);
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = TestPaths.RepoRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Tool);
        start.ArgumentList.Add(Schema);
        using var process = Process.Start(start)!;
        process.StandardInput.Write(input.ToJsonString());
        process.StandardInput.Close();
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "the query checker did not finish in a minute");
        Assert.True(process.ExitCode == 0, $"the query checker failed: {errors.Result}");

        return [.. JsonDocument.Parse(output).RootElement.EnumerateArray().Select(r => new KqlCheck(
            r.GetProperty("name").GetString()!,
            [.. r.GetProperty("diagnostics").EnumerateArray().Select(d => $"{d.GetProperty("code").GetString()} {d.GetProperty("message").GetString()} (at {d.GetProperty("start").GetInt32()})")],
            r.GetProperty("columns").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("type").GetString()!, StringComparer.Ordinal)))];
    }
}
