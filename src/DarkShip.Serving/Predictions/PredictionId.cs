using System.Security.Cryptography;

namespace DarkShip.Serving.Predictions;

/// <summary>
/// Time-ordered prediction ids in the ULID layout: 48 bits of Unix milliseconds then 80 random
/// bits, in Crockford base 32 (26 characters). Ids sort by creation time, so log rows can be
/// found by id and exported by time range.
/// </summary>
public static class PredictionId
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>A new id stamped with <paramref name="time"/>'s current instant.</summary>
    public static string New(TimeProvider time)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)ms;
            ms >>= 8;
        }

        RandomNumberGenerator.Fill(bytes[6..]);
        return Encode(bytes);
    }

    /// <summary>The smallest id stamped at <paramref name="at"/> (to the millisecond): ids made at or after it sort at or above it.</summary>
    public static string LowerBound(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = (ulong)Math.Max(0, at.ToUnixTimeMilliseconds());
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)ms;
            ms >>= 8;
        }

        return Encode(bytes);
    }

    /// <summary>
    /// The id in its one spelling (Crockford base 32 in upper case, as DarkShip writes it), or
    /// <see langword="null"/> when <paramref name="id"/> is not a prediction id: 26 characters of the
    /// alphabet, every one of them, the first no larger than 7 (128 bits), stamped no later than the year 9999.
    /// </summary>
    public static string? Normalize(string? id)
    {
        if (id is not { Length: 26 })
        {
            return null;
        }

        Span<char> chars = stackalloc char[26];
        for (var i = 0; i < 26; i++)
        {
            chars[i] = char.ToUpperInvariant(id[i]);
            if (Alphabet.IndexOf(chars[i], StringComparison.Ordinal) < 0)
            {
                return null;
            }
        }

        if (chars[0] > '7')
        {
            return null; // more than 128 bits
        }

        var normal = new string(chars);
        return TimestampOf(normal) is null ? null : normal;
    }

    /// <summary>The instant encoded in <paramref name="id"/>, or <see langword="null"/> when its first 10 characters are no timestamp (see <see cref="Normalize"/> for the whole id).</summary>
    public static DateTimeOffset? TimestampOf(string id)
    {
        if (id.Length != 26)
        {
            return null;
        }

        ulong ms = 0;
        for (var i = 0; i < 10; i++)
        {
            var digit = Alphabet.IndexOf(char.ToUpperInvariant(id[i]), StringComparison.Ordinal);
            if (digit < 0)
            {
                return null;
            }

            ms = (ms << 5) | (uint)digit;
        }

        return ms > 253402300799999 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)ms);
    }

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        // 128 bits → 26 characters of 5 bits, most significant first (the first carries 3 bits).
        Span<char> chars = stackalloc char[26];
        var value = new UInt128(
            BitConverter.ToUInt64([bytes[7], bytes[6], bytes[5], bytes[4], bytes[3], bytes[2], bytes[1], bytes[0]]),
            BitConverter.ToUInt64([bytes[15], bytes[14], bytes[13], bytes[12], bytes[11], bytes[10], bytes[9], bytes[8]]));
        for (var i = 25; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return new string(chars);
    }
}
