using System.Text.RegularExpressions;

namespace DarkShip.Serving.Features;

/// <summary>Rules for feature group names and entity keys, shared by ingestion, the manifest and the predict API.</summary>
public static partial class FeatureGroups
{
    /// <summary>Longest entity key accepted (Table Storage keys hold up to 1 KiB).</summary>
    public const int MaxEntityKeyLength = 256;

    /// <summary>Whether <paramref name="group"/> is a valid group name: a letter, then up to 39 letters or digits.</summary>
    public static bool IsValidName(string? group) => group is not null && GroupName().IsMatch(group);

    /// <summary>Why <paramref name="key"/> cannot be an entity key, or <see langword="null"/> when it can.</summary>
    public static string? ValidateEntityKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "An entity key is a non-empty string.";
        }

        if (key.Length > MaxEntityKeyLength)
        {
            return $"An entity key holds at most {MaxEntityKeyLength} characters.";
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                return "An entity key may not contain '/', '\\', '#', '?' or control characters.";
            }
        }

        return null;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{0,39}$")]
    private static partial Regex GroupName();
}
