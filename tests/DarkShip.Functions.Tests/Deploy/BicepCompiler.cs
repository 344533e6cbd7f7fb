using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace DarkShip.Functions.Tests.Deploy;

/// <summary>What one run of the Bicep CLI printed.</summary>
internal sealed record BicepRun(string Arguments, int ExitCode, string Output, string Errors);

/// <summary>
/// The real Bicep compiler, from the Azure.Bicep.CommandLine.linux-x64 package the test project
/// references (its props set <c>$(BicepPath)</c>, which the build writes into this assembly's
/// metadata). It runs offline in <c>bicep/</c>, so <c>bicepconfig.json</c> there applies. The main
/// template is compiled once per test run and shared.
/// </summary>
internal static class BicepCompiler
{
    private static readonly Lazy<(BicepRun Run, JsonObject Template)> Main = new(() =>
    {
        var run = Run("build", "main.bicep", "--stdout");
        Assert.True(run.ExitCode == 0, $"bicep build failed: {run.Errors}");
        return (run, JsonNode.Parse(run.Output)!.AsObject());
    });

    /// <summary>The folder of the templates.</summary>
    public static string Folder { get; } = Path.Combine(TestPaths.RepoRoot, "bicep");

    /// <summary>The compiler's path, as the package's props give it.</summary>
    public static string Executable { get; } = typeof(BicepCompiler).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value
        ?? throw new InvalidOperationException("BicepPath is not set: restore the Azure.Bicep.CommandLine.linux-x64 package");

    /// <summary>The build of <c>main.bicep</c>.</summary>
    public static BicepRun MainBuild => Main.Value.Run;

    /// <summary><c>main.bicep</c> compiled to an ARM template.</summary>
    public static JsonObject MainTemplate => Main.Value.Template;

    /// <summary>Runs <c>bicep</c> with <paramref name="arguments"/> in the templates' folder.</summary>
    public static BicepRun Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish in 2 minutes");
        }

        return new BicepRun(string.Join(' ', arguments), process.ExitCode, output, errors.Result);
    }

    /// <summary>The nested deployment of the module whose deployment name starts with <paramref name="module"/> (e.g. <c>storage</c>): its template.</summary>
    public static JsonObject Module(string module) =>
        Resources(MainTemplate)
            .Single(r => (string?)r["type"] == "Microsoft.Resources/deployments" && ((string?)r["name"] ?? "").Contains($"'{module}-", StringComparison.Ordinal))
            ["properties"]!["template"]!.AsObject();

    /// <summary>The resources a template declares (as an array, or by symbolic name in language version 2.0).</summary>
    public static IEnumerable<JsonObject> Resources(JsonObject template) => template["resources"] switch
    {
        JsonArray array => array.Select(r => r!.AsObject()),
        JsonObject byName => byName.Select(r => r.Value!.AsObject()),
        _ => [],
    };

    /// <summary>Every resource of <paramref name="type"/> in the module's template.</summary>
    public static IEnumerable<JsonObject> OfType(JsonObject template, string type) =>
        Resources(template).Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));
}
