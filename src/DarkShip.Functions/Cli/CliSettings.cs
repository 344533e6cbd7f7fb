using DarkShip.Functions.Hosting;
using DarkShip.Functions.Local;

namespace DarkShip.Functions.Cli;

/// <summary>App settings for the operator verbs: a local.settings.json's Values, with environment variables winning.</summary>
internal static class CliSettings
{
    public static IConfiguration Load(FileInfo settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(LocalSettings.Load(settings.Exists ? settings.FullName : null).Values
                .Select(v => new KeyValuePair<string, string?>(v.Key.Replace("__", ":", StringComparison.Ordinal), v.Value)))
            .AddEnvironmentVariables()
            .Build();

    /// <summary>The <c>--settings</c> option every operator verb takes.</summary>
    public static System.CommandLine.Option<FileInfo> Option(bool recursive = false) => new("--settings")
    {
        Description = "local.settings.json naming the storage account (environment variables win).",
        DefaultValueFactory = _ => new FileInfo("local.settings.json"),
        Recursive = recursive,
    };

    /// <summary>The storage account the settings name.</summary>
    /// <exception cref="InvalidOperationException">They name none.</exception>
    public static StorageAccount Storage(FileInfo settings) => StorageAccount.From(Load(settings));

    /// <summary>The storage account the settings name, or <see langword="null"/> after telling <paramref name="error"/> why there is none (<c>{verb}: …</c>).</summary>
    public static async Task<StorageAccount?> StorageOrReportAsync(FileInfo settings, string verb, TextWriter error)
    {
        try
        {
            return Storage(settings);
        }
        catch (InvalidOperationException e)
        {
            await error.WriteLineAsync($"{verb}: {e.Message}");
            return null;
        }
    }
}
