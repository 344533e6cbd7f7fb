using DarkShip.Serving.Features;
using DarkShip.Serving.Manifests;

namespace DarkShip.Serving.Models;

/// <summary>Why a feature's value is not what the store or the request gave.</summary>
public enum FeatureFallback
{
    /// <summary>The value was used as given.</summary>
    None,

    /// <summary>No value: the group had no row, or the row lacks the property.</summary>
    Missing,

    /// <summary>The row is older than the feature's max age.</summary>
    Stale,

    /// <summary>The stored value has the wrong type or is outside the valid range.</summary>
    Invalid,
}

/// <summary>
/// A manifest compiled for the request path: features in model column order with their group
/// index, property, default and bounds, so a row is built with array lookups only.
/// </summary>
public sealed class FeaturePlan
{
    private readonly Dictionary<string, int> byName;
    private readonly Dictionary<string, int>[] categoryCodes;

    /// <summary>Compiles <paramref name="manifest"/>.</summary>
    public FeaturePlan(ModelManifest manifest)
    {
        Manifest = manifest;
        Groups = [.. manifest.Groups.Where(g => manifest.Features.Any(f => f.Group == g.Name))];
        Features = [.. manifest.Features];
        GroupIndex = [.. manifest.Features.Select(f => f.Group is null ? -1 : Array.FindIndex(Groups, g => g.Name == f.Group))];
        byName = manifest.Features.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        categoryCodes = [.. manifest.Features.Select(f => (f.Categories ?? []).Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal))];
    }

    /// <summary>The manifest compiled.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The groups at least one feature reads, in manifest order.</summary>
    public ManifestGroup[] Groups { get; }

    /// <summary>The features in model column order.</summary>
    public ManifestFeature[] Features { get; }

    /// <summary>For each feature, its index in <see cref="Groups"/>, or -1 when only the request carries it.</summary>
    public int[] GroupIndex { get; }

    /// <summary>The column of the feature named <paramref name="name"/>, or -1.</summary>
    public int IndexOf(string name) => byName.GetValueOrDefault(name, -1);

    /// <summary>
    /// Reads <paramref name="value"/> (double, bool or string) as feature <paramref name="column"/>'s
    /// float, or says why it cannot.
    /// </summary>
    public bool TryEncode(int column, object value, out float encoded, out string? error)
    {
        var feature = Features[column];
        error = null;
        switch (feature.Type, value)
        {
            case (ManifestFeatureType.Number, double d):
                encoded = (float)d;
                break;
            case (ManifestFeatureType.Number or ManifestFeatureType.Boolean, bool b):
                encoded = b ? 1f : 0f;
                return true;
            case (ManifestFeatureType.Boolean, double d) when d is 0 or 1:
                encoded = (float)d;
                return true;
            case (ManifestFeatureType.Category, string s):
                encoded = categoryCodes[column].TryGetValue(s, out var code) ? code : float.NaN;
                return true;
            default:
                encoded = float.NaN;
                error = feature.Type switch
                {
                    ManifestFeatureType.Number => "must be a number",
                    ManifestFeatureType.Boolean => "must be true or false",
                    _ => $"must be one of the labels {string.Join(", ", feature.Categories ?? [])}",
                };
                return false;
        }

        if (double.IsNaN(encoded))
        {
            return true; // NaN is how a caller says "missing"
        }

        if (encoded < feature.Min || encoded > feature.Max || float.IsInfinity(encoded))
        {
            error = $"must be within [{feature.Min?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-inf"}, {feature.Max?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "inf"}]";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Fills <paramref name="row"/> from the request's inline values and the groups' rows; every value
    /// that could not be used falls back to the feature's default and is noted in <paramref name="fallbacks"/>.
    /// </summary>
    /// <param name="inline">Inline values by column (null: not given).</param>
    /// <param name="groupRows">One row (or null) per entry of <see cref="Groups"/>.</param>
    /// <param name="now">The instant staleness is judged at.</param>
    /// <param name="row">The model's input, one float per column.</param>
    /// <param name="fallbacks">Why each column was not used as given.</param>
    public void Fill(ReadOnlySpan<object?> inline, ReadOnlySpan<FeatureRow?> groupRows, DateTimeOffset now, Span<float> row, Span<FeatureFallback> fallbacks)
    {
        for (var i = 0; i < Features.Length; i++)
        {
            var feature = Features[i];
            fallbacks[i] = FeatureFallback.None;
            if (inline[i] is { } given && TryEncode(i, given, out var value, out _))
            {
                row[i] = value;
                if (float.IsNaN(value))
                {
                    fallbacks[i] = FeatureFallback.Missing; // "NaN", or a label the model does not know: scored as missing, and said so
                }

                continue;
            }

            var group = GroupIndex[i];
            var source = group < 0 ? null : groupRows[group];
            if (source is null || !source.Values.TryGetValue(feature.Property, out var stored))
            {
                row[i] = feature.Default;
                fallbacks[i] = FeatureFallback.Missing;
            }
            else if (feature.MaxAge is { } maxAge && now - source.AsOf > maxAge)
            {
                row[i] = feature.Default;
                fallbacks[i] = FeatureFallback.Stale;
            }
            else if (TryEncode(i, stored, out value, out _))
            {
                row[i] = value;
                if (float.IsNaN(value))
                {
                    fallbacks[i] = FeatureFallback.Missing;
                }
            }
            else
            {
                row[i] = feature.Default;
                fallbacks[i] = FeatureFallback.Invalid;
            }
        }
    }
}
