using System.Text.Json;
using System.Text.RegularExpressions;
using DarkShip.Functions.Definitions;

namespace DarkShip.Functions.Local;

/// <summary>
/// App settings for a local run, as the Functions host would see them: the <c>Values</c> of
/// local.settings.json over the catalog's defaults, with the process environment winning.
/// </summary>
internal sealed partial class LocalSettings(IReadOnlyDictionary<string, string> values)
{
    public IReadOnlyDictionary<string, string> Values { get; } = values;

    public static LocalSettings Load(string? path)
    {
        var values = new Dictionary<string, string>(FunctionCatalog.SettingDefaults, StringComparer.OrdinalIgnoreCase);
        if (path is not null && File.Exists(path))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.TryGetProperty("Values", out var file) && file.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in file.EnumerateObject())
                {
                    values[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                }
            }
        }

        foreach (var key in values.Keys.ToList())
        {
            if (Environment.GetEnvironmentVariable(key) is { } env)
            {
                values[key] = env;
            }
        }

        return new LocalSettings(values);
    }

    /// <summary>Replaces each <c>%Name%</c> with that app setting, as the host does in binding expressions.</summary>
    /// <exception cref="InvalidOperationException">A named setting does not exist.</exception>
    public string Resolve(string expression) => SettingReference().Replace(expression, m =>
        Values.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new InvalidOperationException($"the app setting '{m.Groups[1].Value}' (used in '{expression}') is not set"));

    [GeneratedRegex("%([^%]+)%")]
    private static partial Regex SettingReference();
}
