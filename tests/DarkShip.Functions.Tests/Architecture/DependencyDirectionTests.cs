using System.Reflection;
using System.Text.RegularExpressions;

namespace DarkShip.Functions.Tests.Architecture;

/// <summary>
/// The shape of the code: dependencies point one way (Scoring ← Scoring.MLNet/Scoring.Onnx ← Serving ← Storage/EventHubs/Reports ← Functions),
/// and within the function app nothing but the entry point reaches into the CLI verbs.
/// </summary>
public sealed partial class DependencyDirectionTests
{
    private static readonly Assembly Scoring = typeof(DarkShip.Scoring.IModel).Assembly;
    private static readonly Assembly MLNet = typeof(DarkShip.Scoring.MLNet.MLNetModel).Assembly;
    private static readonly Assembly Onnx = typeof(DarkShip.Scoring.Onnx.OnnxModel).Assembly;
    private static readonly Assembly Serving = typeof(DarkShip.Serving.Models.ModelLoader).Assembly;
    private static readonly Assembly Storage = typeof(DarkShip.Storage.StorageClients).Assembly;
    private static readonly Assembly EventHubs = typeof(DarkShip.EventHubs.EventHubProducerClient).Assembly;
    private static readonly Assembly Reports = typeof(DarkShip.Reports.ReportPage).Assembly;
    private static readonly Assembly Functions = typeof(DarkShip.Functions.Hosting.HandlerApp).Assembly;

    public static TheoryData<string, string[]> Allowed => new()
    {
        { "DarkShip.Scoring", [] },
        { "DarkShip.Scoring.MLNet", ["DarkShip.Scoring"] },
        { "DarkShip.Scoring.Onnx", ["DarkShip.Scoring"] },
        { "DarkShip.Serving", ["DarkShip.Scoring", "DarkShip.Scoring.MLNet", "DarkShip.Scoring.Onnx"] },
        { "DarkShip.Storage", ["DarkShip.Serving", "DarkShip.Scoring"] },
        { "DarkShip.EventHubs", ["DarkShip.Serving", "DarkShip.Scoring"] },
        { "DarkShip.Reports", ["DarkShip.Serving"] },
        { "DarkShip.Functions", ["DarkShip.Serving", "DarkShip.Scoring", "DarkShip.Scoring.MLNet", "DarkShip.Scoring.Onnx", "DarkShip.Storage", "DarkShip.EventHubs", "DarkShip.Reports"] },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void EachProject_ReferencesOnlyTheProjectsBelowIt(string project, string[] allowed)
    {
        var assembly = new[] { Scoring, MLNet, Onnx, Serving, Storage, EventHubs, Reports, Functions }.Single(a => a.GetName().Name == project);

        var ours = assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("DarkShip.", StringComparison.Ordinal)).ToList();

        Assert.All(ours, name => Assert.Contains(name, allowed));
    }

    [Fact]
    public void TheDomainKnowsNoSdkNoHostAndNoCli()
    {
        var referenced = Serving.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.DoesNotContain(referenced, n => n.StartsWith("Azure.", StringComparison.Ordinal) || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || n == "System.CommandLine");
    }

    [Fact]
    public void OnlyTheEntryPoint_ReachesIntoTheCliVerbs()
    {
        var app = Path.Combine(TestPaths.RepoRoot, "src", "DarkShip.Functions");
        var outside = Directory.EnumerateFiles(app, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Cli{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && Path.GetFileName(f) != "Program.cs")
            .ToList();

        Assert.NotEmpty(outside);
        Assert.All(outside, file => Assert.False(CliReference().IsMatch(File.ReadAllText(file)), $"{Path.GetRelativePath(app, file)} uses the CLI (DarkShip.Functions.Cli); the CLI may use hosting, not the other way round."));
    }

    [GeneratedRegex(@"\bDarkShip\.Functions\.Cli\b|(?<![\w.])Cli\.\w")]
    private static partial Regex CliReference();
}
