// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Azure;

namespace HandWritten;

/// <summary>
/// Entities to and from Table Storage's JSON with OData type annotations
/// (<c>"n@odata.type":"Edm.Int64"</c>): written for every type JSON alone cannot carry, read back
/// from what the service sends with <c>odata=minimalmetadata</c>.
/// </summary>
internal static class TableEntityJson
{
    private const string TypeSuffix = "@odata.type";

    public static byte[] Write(TableEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("PartitionKey", entity.PartitionKey);
            json.WriteString("RowKey", entity.RowKey);
            foreach (var (name, value) in entity.Properties)
            {
                if (name is "PartitionKey" or "RowKey" or "Timestamp" || name.StartsWith("odata.", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"'{name}' is a system property; it cannot be set as a property.", nameof(entity));
                }

                WriteProperty(json, name, value);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteProperty(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null:
                return; // Table Storage has no nulls: a missing property is the null
            case string s:
                json.WriteString(name, s);
                return;
            case bool b:
                json.WriteBoolean(name, b);
                return;
            case int i:
                json.WriteNumber(name, i);
                return;
            case long l:
                json.WriteString(name + TypeSuffix, "Edm.Int64");
                json.WriteString(name, l.ToString(CultureInfo.InvariantCulture));
                return;
            case double or float:
                var d = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                json.WriteString(name + TypeSuffix, "Edm.Double");
                if (double.IsFinite(d))
                {
                    json.WriteNumber(name, d);
                }
                else
                {
                    json.WriteString(name, double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                }

                return;
            case DateTimeOffset or DateTime:
                var t = value is DateTime dt ? new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt) : (DateTimeOffset)value;
                json.WriteString(name + TypeSuffix, "Edm.DateTime");
                json.WriteString(name, t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture));
                return;
            case Guid g:
                json.WriteString(name + TypeSuffix, "Edm.Guid");
                json.WriteString(name, g.ToString("D"));
                return;
            case byte[] bytes:
                json.WriteString(name + TypeSuffix, "Edm.Binary");
                json.WriteBase64String(name, bytes);
                return;
            default:
                throw new ArgumentException($"Property '{name}' is a {value.GetType().Name}; Table Storage stores string, double, Int32, Int64, bool, DateTime, Guid and binary.");
        }
    }

    /// <summary>Reads one entity object; <paramref name="etag"/> is the response header for point reads.</summary>
    public static TableEntity Read(JsonElement element, string? etag = null)
    {
        var partitionKey = element.GetProperty("PartitionKey").GetString() ?? string.Empty;
        var rowKey = element.GetProperty("RowKey").GetString() ?? string.Empty;
        var entity = new TableEntity(partitionKey, rowKey);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.EndsWith(TypeSuffix, StringComparison.Ordinal))
            {
                types[property.Name[..^TypeSuffix.Length]] = property.Value.GetString() ?? string.Empty;
            }
        }

        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name is "PartitionKey" or "RowKey" || name.EndsWith(TypeSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            if (name == "odata.etag")
            {
                entity.ETag = new ETag(property.Value.GetString() ?? "*");
                continue;
            }

            if (name.StartsWith("odata.", StringComparison.Ordinal))
            {
                continue;
            }

            if (name == "Timestamp")
            {
                entity.Timestamp = DateTimeOffset.Parse(property.Value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                continue;
            }

            entity.Properties[name] = ReadValue(property.Value, types.GetValueOrDefault(name), name);
        }

        if (etag is not null)
        {
            entity.ETag = new ETag(etag);
        }

        return entity;
    }

    private static object? ReadValue(JsonElement value, string? type, string name)
    {
        try
        {
            return type switch
            {
                "Edm.Int64" => long.Parse(value.GetString()!, CultureInfo.InvariantCulture),
                "Edm.Int32" => value.ValueKind == JsonValueKind.String ? int.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetInt32(),
                "Edm.Double" => value.ValueKind == JsonValueKind.String
                    ? value.GetString() switch
                    {
                        "NaN" => double.NaN,
                        "Infinity" => double.PositiveInfinity,
                        "-Infinity" => double.NegativeInfinity,
                        var s => double.Parse(s!, CultureInfo.InvariantCulture),
                    }
                    : value.GetDouble(),
                "Edm.DateTime" => DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                "Edm.Guid" => Guid.Parse(value.GetString()!),
                "Edm.Binary" => value.GetBytesFromBase64(),
                "Edm.Boolean" => value.GetBoolean(),
                "Edm.String" => value.GetString(),
                null => value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number when value.TryGetInt32(out var i) && !value.GetRawText().Contains('.') && !value.GetRawText().Contains('e', StringComparison.OrdinalIgnoreCase) => i,
                    JsonValueKind.Number => value.GetDouble(),
                    JsonValueKind.Null => null,
                    _ => throw new FormatException($"a JSON {value.ValueKind}"),
                },
                _ => throw new FormatException($"unknown type {type}"),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw new InvalidDataException($"Table Storage returned property '{name}' in a form DarkShip cannot read ({type ?? "untyped"}): {e.Message}", e);
        }
    }
}
