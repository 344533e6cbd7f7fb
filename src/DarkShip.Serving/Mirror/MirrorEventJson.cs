using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace DarkShip.Serving.Mirror;

/// <summary>
/// The mirror event's wire form (JSON, <c>"schema": 1</c>), written and read by hand so it needs no
/// reflection and stays stable whatever the records look like. A missing feature value (NaN) is
/// written as null.
/// </summary>
public static class MirrorEventJson
{
    /// <summary>The event as UTF-8 JSON.</summary>
    public static byte[] Serialize(MirrorEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            Write(w, e);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the event as one JSON object.</summary>
    public static void Write(Utf8JsonWriter w, MirrorEvent e)
    {
        w.WriteStartObject();
        w.WriteNumber("schema", MirrorEvent.SchemaVersion);
        w.WriteString("predictionId", e.PredictionId);
        w.WriteString("model", e.Model);
        w.WriteString("timestamp", e.Timestamp);
        if (e.RequestId is not null)
        {
            w.WriteString("requestId", e.RequestId);
        }

        w.WriteString("partitionKey", e.PartitionKey);
        w.WriteStartObject("entities");
        foreach (var (group, key) in e.Entities)
        {
            w.WriteString(group, key);
        }

        w.WriteEndObject();
        w.WriteStartObject("groups");
        foreach (var (name, g) in e.Groups)
        {
            w.WriteStartObject(name);
            w.WriteString("status", g.Status);
            if (g.AsOf is { } asOf)
            {
                w.WriteString("asOf", asOf);
            }

            if (g.AgeSeconds is { } age)
            {
                w.WriteNumber("ageSeconds", Math.Round(age, 3));
            }

            if (g.Values is not null)
            {
                WriteValues(w, "values", g.Values);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
        WriteValues(w, "inline", e.Inline);
        w.WritePropertyName("features");
        WriteFeatures(w, e.Features);
        w.WriteStartArray("degraded");
        foreach (var d in e.Degraded)
        {
            w.WriteStringValue(d);
        }

        w.WriteEndArray();
        w.WriteStartArray("outputs");
        foreach (var o in e.Outputs)
        {
            w.WriteStartObject();
            w.WriteString("version", o.Version);
            w.WriteString("arm", o.Arm);
            w.WriteStartArray("scores");
            foreach (var s in o.Scores)
            {
                w.WriteNumberValue(s);
            }

            w.WriteEndArray();
            if (o.Decision is not null)
            {
                w.WriteString("decision", o.Decision);
            }

            w.WriteBoolean("served", o.Served);
            if (o.Error is not null)
            {
                w.WriteString("error", o.Error);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("latencyMs");
        w.WriteNumber("features", Math.Round(e.FeatureMilliseconds, 3));
        w.WriteNumber("total", Math.Round(e.TotalMilliseconds, 3));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Reads an event written by <see cref="Write"/>.</summary>
    /// <exception cref="FormatException">It is not a mirror event this code can read.</exception>
    /// <exception cref="UnsupportedSchemaException">It is a mirror event of another schema (a newer writer's).</exception>
    public static MirrorEvent Deserialize(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var schema = root.GetProperty("schema").GetInt32();
            if (schema != MirrorEvent.SchemaVersion)
            {
                throw new UnsupportedSchemaException(schema);
            }

            var groups = new Dictionary<string, MirroredGroup>(StringComparer.Ordinal);
            foreach (var g in root.GetProperty("groups").EnumerateObject())
            {
                groups[g.Name] = new MirroredGroup(
                    g.Value.GetProperty("status").GetString()!,
                    g.Value.TryGetProperty("asOf", out var asOf) ? asOf.GetDateTimeOffset() : null,
                    g.Value.TryGetProperty("ageSeconds", out var age) ? age.GetDouble() : null,
                    g.Value.TryGetProperty("values", out var values) ? ReadValues(values) : null);
            }

            var outputs = root.GetProperty("outputs").EnumerateArray().Select(o => new MirroredOutput(
                o.GetProperty("version").GetString()!,
                o.GetProperty("arm").GetString()!,
                [.. o.GetProperty("scores").EnumerateArray().Select(s => s.GetSingle())],
                o.TryGetProperty("decision", out var d) ? d.GetString() : null,
                o.GetProperty("served").GetBoolean(),
                o.TryGetProperty("error", out var error) ? error.GetString() : null)).ToList();
            var latency = root.GetProperty("latencyMs");
            return new MirrorEvent(
                root.GetProperty("predictionId").GetString()!,
                root.GetProperty("model").GetString()!,
                root.GetProperty("timestamp").GetDateTimeOffset(),
                root.TryGetProperty("requestId", out var rid) ? rid.GetString() : null,
                root.GetProperty("entities").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal),
                root.GetProperty("partitionKey").GetString()!,
                groups,
                ReadValues(root.GetProperty("inline")),
                [.. root.GetProperty("features").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.ValueKind == JsonValueKind.Null ? float.NaN : p.Value.GetSingle()))],
                [.. root.GetProperty("degraded").EnumerateArray().Select(x => x.GetString()!)],
                outputs,
                latency.GetProperty("features").GetDouble(),
                latency.GetProperty("total").GetDouble());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"not a mirror event: {e.Message}", e);
        }
    }

    private static void WriteValues(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, object> values)
    {
        w.WriteStartObject(name);
        foreach (var (key, value) in values)
        {
            switch (value)
            {
                case double d when double.IsFinite(d):
                    w.WriteNumber(key, d);
                    break;
                case bool b:
                    w.WriteBoolean(key, b);
                    break;
                case string s:
                    w.WriteString(key, s);
                    break;
                default:
                    w.WriteNull(key);
                    break;
            }
        }

        w.WriteEndObject();
    }

    private static Dictionary<string, object> ReadValues(JsonElement obj)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            switch (p.Value.ValueKind)
            {
                case JsonValueKind.Number:
                    values[p.Name] = p.Value.GetDouble();
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    values[p.Name] = p.Value.GetBoolean();
                    break;
                case JsonValueKind.String:
                    values[p.Name] = p.Value.GetString()!;
                    break;
            }
        }

        return values;
    }

    /// <summary>
    /// Writes a model's input as a JSON object by feature name: each value as the shortest text that
    /// reads back to the same float (so served values round-trip exactly), a missing one (NaN) as null.
    /// The mirror event and the model log write features this one way.
    /// </summary>
    public static void WriteFeatures(Utf8JsonWriter w, IReadOnlyList<KeyValuePair<string, float>> features)
    {
        w.WriteStartObject();
        foreach (var (name, value) in features)
        {
            w.WritePropertyName(name);
            if (float.IsFinite(value))
            {
                w.WriteRawValue(value.ToString("R", CultureInfo.InvariantCulture), skipInputValidation: true);
            }
            else
            {
                w.WriteNullValue();
            }
        }

        w.WriteEndObject();
    }
}

/// <summary>A mirror event of a schema this build does not read (written by a newer DarkShip).</summary>
public sealed class UnsupportedSchemaException(int schema)
    : FormatException($"mirror event schema {schema} is not supported (this build reads {MirrorEvent.SchemaVersion})")
{
    /// <summary>The event's schema.</summary>
    public int Schema { get; } = schema;
}
