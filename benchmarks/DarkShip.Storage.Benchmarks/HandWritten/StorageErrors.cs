// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using System.Text.Json;
using System.Xml.Linq;
using Azure;
using Azure.Core;

namespace HandWritten;

/// <summary>
/// Reads a storage error into <see cref="RequestFailedException.ErrorCode"/> and its message: the
/// code from <c>x-ms-error-code</c>, the text from the body (Table's JSON <c>odata.error</c>, Blob's XML).
/// </summary>
internal sealed class StorageErrors : RequestFailedDetailsParser
{
    public static readonly StorageErrors Parser = new();

    public static RequestFailedException Exception(Response response) => new(response, null, Parser);

    public override bool TryParse(Response response, out ResponseError? error, out IDictionary<string, string>? data)
    {
        data = null;
        response.Headers.TryGetValue("x-ms-error-code", out var code);
        string? message = null;
        try
        {
            var body = response.Content?.ToString();
            if (!string.IsNullOrWhiteSpace(body))
            {
                if (body.TrimStart().StartsWith('{'))
                {
                    using var json = JsonDocument.Parse(body);
                    if (json.RootElement.TryGetProperty("odata.error", out var odata))
                    {
                        code ??= odata.TryGetProperty("code", out var c) ? c.GetString() : null;
                        message = odata.TryGetProperty("message", out var m) && m.TryGetProperty("value", out var v) ? v.GetString() : null;
                    }
                }
                else if (body.TrimStart().StartsWith('<'))
                {
                    var xml = XDocument.Parse(body);
                    code ??= xml.Root?.Element("Code")?.Value;
                    message = xml.Root?.Element("Message")?.Value;
                }
            }
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException or InvalidOperationException)
        {
            // An unreadable error body still leaves the status and the error code header.
        }

        error = code is null && message is null ? null : new ResponseError(code, message ?? code);
        return error is not null;
    }
}
