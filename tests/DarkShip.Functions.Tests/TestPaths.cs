namespace DarkShip.Functions.Tests;

internal static class TestPaths
{
    /// <summary>The repository root (the folder holding Functions.sln).</summary>
    public static string RepoRoot { get; } = FindRoot();

    public static string Fixture(string name, string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name, file);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Functions.sln not found above the test binaries");
    }
}
