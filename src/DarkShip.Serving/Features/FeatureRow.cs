namespace DarkShip.Serving.Features;

/// <summary>
/// One entity's feature values in one group at one instant: a snapshot as ingested. Values are
/// <see cref="double"/>, <see cref="bool"/> or <see cref="string"/>; an absent property is missing.
/// </summary>
/// <param name="AsOf">When the values were true (the ingested timestamp, not the write time).</param>
/// <param name="Values">Property values by property name.</param>
public sealed record FeatureRow(DateTimeOffset AsOf, IReadOnlyDictionary<string, object> Values);

/// <summary>The type a feature group's property holds, as ingestion inferred it.</summary>
public enum FeatureType
{
    /// <summary>A number (stored as a double).</summary>
    Number,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>Text, e.g. a category label.</summary>
    Text,
}

/// <summary>The properties a feature group holds and their types, recorded by ingestion.</summary>
/// <param name="Group">The group's name.</param>
/// <param name="Properties">Property types by property name.</param>
public sealed record FeatureGroupSchema(string Group, IReadOnlyDictionary<string, FeatureType> Properties);
