// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace HandWritten;

/// <summary>
/// Signs requests with the account key (SharedKey), for connection strings: Azurite and development.
/// Azure deployments use tokens; their storage accounts refuse shared keys.
/// </summary>
/// <remarks>
/// The strings to sign follow "Authorize with Shared Key" (Azure Storage REST reference): the Table
/// service signs verb, Content-MD5, Content-Type, date and resource; the Blob service adds the
/// standard headers, every <c>x-ms-</c> header and every query parameter. For the emulator's
/// path-style URLs the resource is <c>/account</c> followed by the whole path, account included.
/// </remarks>
internal sealed class SharedKeyPolicy(StorageService service, string accountName, string accountKey) : HttpPipelineSynchronousPolicy
{
    private readonly byte[] key = Convert.FromBase64String(accountKey);

    public override void OnSendingRequest(HttpMessage message)
    {
        var toSign = service == StorageService.Table
            ? TableStringToSign(message.Request, accountName)
            : BlobStringToSign(message.Request, accountName);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        message.Request.Headers.SetValue("Authorization", $"SharedKey {accountName}:{signature}");
    }

    internal static string TableStringToSign(Request request, string account)
    {
        var uri = request.Uri.ToUri();
        var resource = $"/{account}{uri.AbsolutePath}";
        var comp = QueryParameters(uri).FirstOrDefault(p => p.Name == "comp");
        if (comp.Name is not null)
        {
            resource += "?comp=" + comp.Value;
        }

        return string.Join('\n', request.Method.Method, Header(request, "Content-MD5"), Header(request, "Content-Type"), Header(request, "x-ms-date"), resource);
    }

    internal static string BlobStringToSign(Request request, string account)
    {
        var uri = request.Uri.ToUri();
        long length = 0;
        var hasLength = request.Content?.TryComputeLength(out length) == true && length > 0;
        var builder = new StringBuilder()
            .Append(request.Method.Method).Append('\n')
            .Append(Header(request, "Content-Encoding")).Append('\n')
            .Append(Header(request, "Content-Language")).Append('\n')
            .Append(hasLength ? length.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty).Append('\n')
            .Append(Header(request, "Content-MD5")).Append('\n')
            .Append(Header(request, "Content-Type")).Append('\n')
            .Append(string.Empty).Append('\n') // Date: x-ms-date is signed among the x-ms- headers instead
            .Append(Header(request, "If-Modified-Since")).Append('\n')
            .Append(Header(request, "If-Match")).Append('\n')
            .Append(Header(request, "If-None-Match")).Append('\n')
            .Append(Header(request, "If-Unmodified-Since")).Append('\n')
            .Append(Header(request, "Range")).Append('\n');

        foreach (var header in request.Headers
            .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => (Name: h.Name.ToLowerInvariant(), Value: h.Value.Trim()))
            .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            builder.Append(header.Name).Append(':').Append(header.Value).Append('\n');
        }

        builder.Append('/').Append(account).Append(uri.AbsolutePath);
        foreach (var group in QueryParameters(uri)
            .GroupBy(p => p.Name.ToLowerInvariant())
            .OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            builder.Append('\n').Append(group.Key).Append(':').Append(string.Join(',', group.Select(p => p.Value).Order(StringComparer.Ordinal)));
        }

        return builder.ToString();
    }

    private static string Header(Request request, string name) => request.Headers.TryGetValue(name, out var value) ? value : string.Empty;

    private static IEnumerable<(string Name, string Value)> QueryParameters(Uri uri) =>
        uri.Query.TrimStart('?')
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Uri.UnescapeDataString(p[0]), p.Length > 1 ? Uri.UnescapeDataString(p[1]) : string.Empty));
}
