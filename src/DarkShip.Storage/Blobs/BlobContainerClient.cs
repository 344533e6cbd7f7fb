using System.Security.Cryptography;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using DarkShip.Storage.Pipeline;

namespace DarkShip.Storage.Blobs;

/// <summary>What a blob is: its version, size and the SHA-256 DarkShip stored with it.</summary>
public sealed record BlobProperties(ETag ETag, long Length, string? Sha256, string? ContentType);

/// <summary>A downloaded blob, or <see cref="NotModified"/> when it still matches the caller's ETag.</summary>
public sealed record BlobDownload(bool NotModified, ETag ETag, byte[] Content, string Sha256);

/// <summary>A download whose bytes do not hash to the SHA-256 they were stored (or asked for) with.</summary>
public sealed class BlobIntegrityException(string message) : IOException(message);

/// <summary>
/// A client for one blob container, for model artifacts: upload as a single block blob (SHA-256
/// computed and stored as metadata), properties, and downloads that are verified against a SHA-256
/// before anyone uses the bytes. Thread-safe.
/// </summary>
public sealed class BlobContainerClient
{
    /// <summary>Largest blob a single put takes: 256 MiB (models are far smaller).</summary>
    public const long MaxSinglePutBytes = 256L * 1024 * 1024;

    private const string Sha256Metadata = "x-ms-meta-sha256";

    private readonly HttpPipeline pipeline;
    private readonly Uri endpoint;
    private readonly TimeSpan callTimeout;

    /// <summary>A client for <paramref name="containerName"/> in the account <paramref name="endpoints"/> names.</summary>
    public BlobContainerClient(StorageEndpoints endpoints, string containerName, TokenCredential? credential = null, StorageClientOptions? options = null)
        : this(StoragePipeline.Build(StorageService.Blob, endpoints, credential, options ??= new StorageClientOptions()), endpoints.BlobEndpoint, containerName, options)
    {
    }

    internal BlobContainerClient(HttpPipeline pipeline, Uri endpoint, string containerName, StorageClientOptions options)
    {
        if (!IsContainerName(containerName))
        {
            throw new ArgumentException($"'{containerName}' is not a container name: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.", nameof(containerName));
        }

        this.pipeline = pipeline;
        this.endpoint = new Uri(endpoint.ToString().TrimEnd('/'));
        Name = containerName;
        callTimeout = options.CallTimeout;
    }

    public string Name { get; }

    /// <summary>Creates the container unless it exists; returns whether it was created.</summary>
    public async Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Message(RequestMethod.Put, null);
        message.Request.Uri.AppendQuery("restype", "container");
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            201 => true,
            409 => false,
            _ => throw StorageErrors.Exception(response),
        };
    }

    /// <summary>Uploads <paramref name="content"/> as block blob <paramref name="blobName"/> in one put, replacing any blob there.</summary>
    /// <returns>The new blob's properties, with the SHA-256 stored beside it.</returns>
    public async Task<BlobProperties> UploadAsync(string blobName, ReadOnlyMemory<byte> content, string contentType = "application/octet-stream", CancellationToken cancellationToken = default)
    {
        if (content.Length > MaxSinglePutBytes)
        {
            throw new ArgumentException($"A single put takes at most {MaxSinglePutBytes} bytes; this blob has {content.Length}.", nameof(content));
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        using var message = Message(RequestMethod.Put, blobName);
        message.Request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
        message.Request.Headers.SetValue("Content-Type", contentType);
        message.Request.Headers.SetValue(Sha256Metadata, sha256);
        message.Request.Content = RequestContent.Create(content);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw StorageErrors.Exception(response);
        }

        return new BlobProperties(response.Headers.ETag ?? default, content.Length, sha256, contentType);
    }

    /// <summary>The blob's properties, or <see langword="null"/> when there is no such blob.</summary>
    public async Task<BlobProperties?> GetPropertiesAsync(string blobName, CancellationToken cancellationToken = default)
    {
        using var message = Message(RequestMethod.Head, blobName);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return null;
        }

        if (response.Status != 200)
        {
            throw StorageErrors.Exception(response);
        }

        return Properties(response);
    }

    /// <summary>
    /// Downloads a blob and checks its SHA-256 against <paramref name="expectedSha256"/> (or, when
    /// omitted, the one stored with it). With <paramref name="ifNoneMatch"/>, a blob still at that
    /// ETag is not sent again: the result says <see cref="BlobDownload.NotModified"/>.
    /// </summary>
    /// <returns>The download, or <see langword="null"/> when there is no such blob.</returns>
    /// <exception cref="BlobIntegrityException">The bytes do not hash to the expected SHA-256.</exception>
    public async Task<BlobDownload?> DownloadAsync(string blobName, string? expectedSha256 = null, ETag? ifNoneMatch = null, CancellationToken cancellationToken = default)
    {
        using var message = Message(RequestMethod.Get, blobName);
        if (ifNoneMatch is { } etag)
        {
            message.Request.Headers.SetValue("If-None-Match", etag.ToString("H"));
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        switch (response.Status)
        {
            case 404:
                return null;
            case 304:
                return new BlobDownload(true, ifNoneMatch!.Value, [], expectedSha256 ?? string.Empty);
            case 200:
                break;
            default:
                throw StorageErrors.Exception(response);
        }

        var content = response.Content.ToArray();
        var actual = Convert.ToHexStringLower(SHA256.HashData(content));
        var expected = expectedSha256 ?? Properties(response).Sha256;
        if (expected is null)
        {
            throw new BlobIntegrityException($"Blob '{Name}/{blobName}' has no stored SHA-256 and none was given: it cannot be verified.");
        }

        if (!actual.Equals(expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new BlobIntegrityException($"Blob '{Name}/{blobName}' hashes to SHA-256 {actual}, not the expected {expected}: refusing the download.");
        }

        return new BlobDownload(false, response.Headers.ETag ?? default, content, actual);
    }

    /// <summary>Deletes a blob; returns whether there was one.</summary>
    public async Task<bool> DeleteIfExistsAsync(string blobName, CancellationToken cancellationToken = default)
    {
        using var message = Message(RequestMethod.Delete, blobName);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            202 => true,
            404 => false,
            _ => throw StorageErrors.Exception(response),
        };
    }

    private static BlobProperties Properties(Response response)
    {
        response.Headers.TryGetValue(Sha256Metadata, out var sha256);
        return new BlobProperties(response.Headers.ETag ?? default, response.Headers.ContentLength ?? 0, sha256, response.Headers.ContentType);
    }

    private HttpMessage Message(RequestMethod method, string? blobName)
    {
        var message = pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(endpoint);
        message.Request.Uri.AppendPath("/" + Name, escape: false);
        if (blobName is not null)
        {
            ValidateBlobName(blobName);
            message.Request.Uri.AppendPath("/" + string.Join('/', blobName.Split('/').Select(Uri.EscapeDataString)), escape: false);
        }

        return message;
    }

    private Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken) =>
        pipeline.SendAsync(message, callTimeout, $"Container '{Name}'", cancellationToken);

    private static void ValidateBlobName(string blobName)
    {
        ArgumentException.ThrowIfNullOrEmpty(blobName);
        if (blobName.Length > 1024 || blobName.Split('/').Any(s => s is "" or "." or "..") || blobName.Any(char.IsControl))
        {
            throw new ArgumentException($"'{blobName}' is not a blob name DarkShip writes: 1 to 1024 characters, no empty, '.' or '..' segments, no control characters.", nameof(blobName));
        }
    }

    private static bool IsContainerName(string name) =>
        name is { Length: >= 3 and <= 63 }
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal);
}
