using System.Globalization;
using System.Text.Json;

namespace DarkShip.Functions.Protocol;

/// <summary>
/// What the Functions host POSTs to <c>/{FunctionName}</c> for a non-HTTP trigger:
/// <c>{"Data": {binding: value}, "Metadata": {name: value}}</c>.
/// </summary>
internal sealed class InvocationRequest(JsonElement data, JsonElement metadata)
{
    public JsonElement Data { get; } = data;

    public JsonElement Metadata { get; } = metadata;

    public static InvocationRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new InvocationFormatException("the invocation body must be a JSON object with Data and Metadata");
        }

        var data = Property(body, "Data");
        var metadata = Property(body, "Metadata");
        return new InvocationRequest(
            data.ValueKind == JsonValueKind.Undefined ? EmptyObject() : data,
            metadata.ValueKind == JsonValueKind.Undefined ? EmptyObject() : metadata);
    }

    /// <summary>A binding's value from Data.</summary>
    public JsonElement Binding(string name) =>
        Property(Data, name) is { ValueKind: not JsonValueKind.Undefined } value
            ? value
            : throw new InvocationFormatException($"the invocation has no '{name}' in Data");

    /// <summary>A metadata entry, unwrapped where the host sent a JSON document as a string.</summary>
    public JsonElement Meta(string name) => Unwrap(Property(Metadata, name));

    /// <summary>
    /// The host serialises arrays and objects inside the payload as JSON <em>strings</em>
    /// (<c>"SequenceNumberArray": "[1,2]"</c>); this turns such a string back into JSON and leaves
    /// anything else as it is.
    /// </summary>
    public static JsonElement Unwrap(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value;
        }

        var text = value.GetString()!.TrimStart();
        if (text.Length == 0 || (text[0] != '[' && text[0] != '{'))
        {
            return value;
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return value; // a string that merely starts with a bracket
        }
    }

    /// <summary>Case-insensitive property lookup: the host is not consistent about casing.</summary>
    public static JsonElement Property(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return default;
        }

        if (obj.TryGetProperty(name, out var exact))
        {
            return exact;
        }

        foreach (var p in obj.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Value;
            }
        }

        return default;
    }

    /// <summary>An ISO 8601 instant from a string value (UTC when it names no offset), or <see langword="null"/>.</summary>
    public static DateTimeOffset? Instant(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static JsonElement EmptyObject()
    {
        using var doc = JsonDocument.Parse("{}");
        return doc.RootElement.Clone();
    }
}

/// <summary>An invocation payload that does not have the shape its trigger promises.</summary>
internal sealed class InvocationFormatException(string message) : Exception(message);
