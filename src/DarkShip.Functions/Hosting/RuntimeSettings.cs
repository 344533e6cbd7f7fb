namespace DarkShip.Functions.Hosting;

/// <summary>
/// Settings of the .NET runtime the handler runs on. They can only take effect as environment variables
/// present when the process starts, so they are app settings (the host hands its environment, app settings
/// included, to the handler it launches): <c>bicep/modules/functionapp.bicep</c> sets each, and
/// <c>tools/measure-startup.sh</c> and the published-package tests start the package with them, as Azure does.
/// </summary>
internal static class RuntimeSettings
{
    /// <summary>
    /// Each setting and its value. <c>DOTNET_EnableWriteXorExecute=0</c>: the runtime's W^X hardening maps
    /// every page of stubs and code twice (a writable and an executable view of one shared memory file) and
    /// switches between them whenever it writes code. Off, a cold start of the handler is ~40 ms shorter
    /// (docs/performance.md, "Handler start-up"): executable pages are then writable while the process
    /// runs, as they were before .NET 7; nothing loads code into the handler but its own package.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> AppSettings = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["DOTNET_EnableWriteXorExecute"] = "0",
    };
}
