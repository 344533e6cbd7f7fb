namespace DarkShip.Serving.Predictions;

/// <summary>
/// Deterministic assignment of entities to experiment arms and shadow samples: a stable hash of
/// (salt, purpose, model, entity key) into 10,000 buckets, so a customer stays in one arm for the
/// life of an experiment, and widening a share only adds entities (a bucket below 1 % is below 10 %).
/// </summary>
public static class TrafficSplit
{
    /// <summary>Buckets: shares resolve to 0.01 %.</summary>
    public const int Buckets = 10_000;

    /// <summary>The purpose that assigns experiment arms.</summary>
    public const string ExperimentPurpose = "experiment";

    /// <summary>The purpose that samples shadow traffic.</summary>
    public const string ShadowPurpose = "shadow";

    /// <summary>The bucket of <paramref name="entityKey"/> for <paramref name="model"/>, in [0, <see cref="Buckets"/>).</summary>
    public static int Bucket(string salt, string purpose, string model, string entityKey)
    {
        // FNV-1a 64 over the UTF-16 code units with separators, then the SplitMix64 finaliser so
        // nearby keys spread over all buckets. Stable across processes, runtimes and machines.
        var hash = StableHash.Empty;
        hash = Mix(hash, salt);
        hash = Mix(hash, purpose);
        hash = Mix(hash, model);
        hash = Mix(hash, entityKey);
        hash ^= hash >> 30;
        hash *= 0xBF58476D1CE4E5B9UL;
        hash ^= hash >> 27;
        hash *= 0x94D049BB133111EBUL;
        hash ^= hash >> 31;
        return (int)(hash % Buckets);
    }

    /// <summary>Whether <paramref name="bucket"/> falls inside a share of <paramref name="sharePercent"/> percent.</summary>
    public static bool IsIn(int bucket, double sharePercent) => bucket < (int)Math.Round(Math.Clamp(sharePercent, 0, 100) * (Buckets / 100));

    private static ulong Mix(ulong hash, string text) => StableHash.Separate(StableHash.Append(hash, text));
}
