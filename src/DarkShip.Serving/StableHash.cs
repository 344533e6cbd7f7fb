namespace DarkShip.Serving;

/// <summary>
/// FNV-1a (64 bits) over UTF-16 code units: the one hash DarkShip uses where a key must land in the same
/// place in every process, runtime and machine (traffic buckets, rank-correlation samples, local hub
/// partitions). Not for security.
/// </summary>
public static class StableHash
{
    /// <summary>The hash of nothing (FNV's offset basis).</summary>
    public const ulong Empty = 14695981039346656037UL;

    private const ulong Prime = 1099511628211UL;

    /// <summary>The hash of <paramref name="text"/>.</summary>
    public static ulong Of(ReadOnlySpan<char> text) => Append(Empty, text);

    /// <summary><paramref name="hash"/> continued over <paramref name="text"/>.</summary>
    public static ulong Append(ulong hash, ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * Prime;
        }

        return hash;
    }

    /// <summary><paramref name="hash"/> continued over a separator no UTF-16 text contains (0xFFFF), so ("ab","c") and ("a","bc") differ.</summary>
    public static ulong Separate(ulong hash) => (hash ^ 0xFFFF) * Prime;
}
