using Azure.Data.Tables;

namespace DarkShip.Storage.Tables;

/// <summary>
/// Reading and writing property values of Azure.Data.Tables' <see cref="TableEntity"/> the way the
/// adapters need: a missing or differently typed property reads as the default (the SDK's typed
/// getters throw), and what the SDK cannot send is made storable before a write.
/// </summary>
public static class TableValues
{
    private const string TypeSuffix = "@odata.type";

    /// <summary>The property as <typeparamref name="T"/>, or <see langword="default"/> when missing or of another type.</summary>
    public static T? Get<T>(this TableEntity entity, string name) =>
        entity.TryGetValue(name, out var value) && value is T typed ? typed : default;

    /// <summary>A numeric property (Double, Int32 or Int64 as stored) as a double; NaN when missing.</summary>
    public static double Number(this TableEntity entity, string name) => entity.TryGetValue(name, out var value) ? value switch
    {
        double d => d,
        int i => i,
        long l => l,
        string s when double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => double.NaN,
    } : double.NaN;

    /// <summary>
    /// <paramref name="entity"/> as it can be sent: the same instance when nothing needs changing, else
    /// a copy where a non-finite double is the service's own spelling (<c>"NaN"</c> typed
    /// <c>Edm.Double</c>, which Table Storage stores and returns as a double, while the SDK's JSON
    /// writer refuses it), a <see langword="null"/> is left out (Table Storage has no nulls: a missing
    /// property is the null), and what a read brought along (<c>odata.etag</c>, <c>Timestamp</c>) is not
    /// sent back as a property.
    /// </summary>
    /// <exception cref="ArgumentException">A key breaks Table Storage's rules (<see cref="TableKeys"/>).</exception>
    public static TableEntity ForWrite(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        TableKeys.Validate(entity.PartitionKey, nameof(entity));
        TableKeys.Validate(entity.RowKey, nameof(entity));
        if (!NeedsCopy(entity))
        {
            return entity;
        }

        var copy = new TableEntity(entity.PartitionKey, entity.RowKey) { ETag = entity.ETag };
        foreach (var (name, value) in entity)
        {
            if (IsSystem(name) || value is null)
            {
                continue;
            }

            if (value is double d && !double.IsFinite(d) || value is float f && !float.IsFinite(f))
            {
                var number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                copy[name] = double.IsNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity";
                copy[name + TypeSuffix] = "Edm.Double";
            }
            else
            {
                copy[name] = value;
            }
        }

        return copy;
    }

    private static bool NeedsCopy(TableEntity entity)
    {
        foreach (var (name, value) in entity)
        {
            if (IsSystem(name) || value is null || value is double d && !double.IsFinite(d) || value is float f && !float.IsFinite(f))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsSystem(string name) => name is "Timestamp" or "odata.etag";
}
