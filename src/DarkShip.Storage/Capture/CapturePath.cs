using System.Globalization;

namespace DarkShip.Storage.Capture;

/// <summary>
/// Where Capture writes one hub's files in its container, as the Bicep sets the archive name format:
/// <c>{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}</c>, each file named by
/// the start of its time window (UTC), e.g. <c>ns/mirror/0/2026/11/30/10/15/00.avro</c>.
/// </summary>
/// <param name="Namespace">The Event Hubs namespace's name (the first label of its host name).</param>
/// <param name="EventHub">The hub's name.</param>
public sealed record CapturePath(string Namespace, string EventHub)
{
    /// <summary>The container Capture writes to (bicep/modules/storage.bicep: <c>captureContainerName</c>).</summary>
    public const string DefaultContainer = "mirror-capture";

    /// <summary>Everything of this hub: <c>{Namespace}/{EventHub}/</c>.</summary>
    public string Prefix => $"{Namespace}/{EventHub}/";

    /// <summary>The path of a namespace given by its host name (<c>ns.servicebus.windows.net</c> → <c>ns</c>; an address or <c>localhost</c> → <c>local</c>).</summary>
    public static CapturePath Of(string fullyQualifiedNamespace, string eventHub)
    {
        var host = fullyQualifiedNamespace.Split(':')[0];
        var name = host.Contains('.', StringComparison.Ordinal) && !System.Net.IPAddress.TryParse(host, out _) ? host[..host.IndexOf('.', StringComparison.Ordinal)] : "local";
        return new CapturePath(name == "localhost" ? "local" : name, eventHub);
    }

    /// <summary>Parses <c>NAMESPACE/HUB</c>.</summary>
    public static CapturePath? Parse(string text) =>
        text.Trim('/').Split('/') is [{ Length: > 0 } ns, { Length: > 0 } hub] ? new CapturePath(ns, hub) : null;

    /// <summary>The file of <paramref name="partition"/>'s window starting at <paramref name="windowStart"/>.</summary>
    public string BlobName(string partition, DateTimeOffset windowStart) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{partition}/{windowStart.UtcDateTime:yyyy'/'MM'/'dd'/'HH'/'mm'/'ss}.avro");

    /// <summary>The prefix of <paramref name="partition"/>'s files whose windows start in the UTC hour <paramref name="hour"/>.</summary>
    public string HourPrefix(string partition, DateTimeOffset hour) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{partition}/{hour.UtcDateTime:yyyy'/'MM'/'dd'/'HH}/");

    /// <summary>The window start a file's name gives, or <see langword="null"/> when the name is not a Capture file's.</summary>
    public static DateTimeOffset? WindowOf(string blobName)
    {
        var parts = blobName.Split('/');
        if (parts.Length < 6 || !parts[^1].EndsWith(".avro", StringComparison.Ordinal))
        {
            return null;
        }

        var text = string.Join("/", parts[^6..^1]) + "/" + parts[^1][..^".avro".Length];
        return DateTimeOffset.TryParseExact(text, "yyyy'/'MM'/'dd'/'HH'/'mm'/'ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null;
    }
}
