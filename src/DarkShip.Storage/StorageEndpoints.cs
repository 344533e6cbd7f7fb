namespace DarkShip.Storage;

/// <summary>How a storage client authenticates.</summary>
public enum StorageAuth
{
    /// <summary>A Microsoft Entra token (managed identity in Azure); the only form used there.</summary>
    Token,

    /// <summary>An account key from a connection string: Azurite and development only.</summary>
    SharedKey,
}

/// <summary>
/// The Table and Blob endpoints of a storage account, read from app settings in the same forms the
/// Functions host accepts for a connection named e.g. <c>AzureWebJobsStorage</c>:
/// a connection string (<c>UseDevelopmentStorage=true</c> for Azurite), or identity-based settings
/// (<c>{name}__accountName</c>, or <c>{name}__tableServiceUri</c> and <c>{name}__blobServiceUri</c>,
/// with optional <c>__credential</c> and <c>__clientId</c>).
/// </summary>
public sealed record StorageEndpoints(Uri TableEndpoint, Uri BlobEndpoint, StorageAuth Auth, string AccountName, string? AccountKey, string? ClientId)
{
    /// <summary>Azurite's well-known development account and key (public, documented by Microsoft).</summary>
    public const string DevelopmentAccount = "devstoreaccount1";

    /// <summary>Azurite's well-known development key (public, documented by Microsoft; useless against Azure).</summary>
    public const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Reads the connection <paramref name="name"/> through <paramref name="setting"/>.</summary>
    /// <exception cref="InvalidOperationException">The settings name no usable account.</exception>
    public static StorageEndpoints FromSettings(Func<string, string?> setting, string name = "AzureWebJobsStorage")
    {
        if (setting(name) is { Length: > 0 } connectionString)
        {
            return FromConnectionString(connectionString);
        }

        var clientId = setting($"{name}__clientId");
        var table = setting($"{name}__tableServiceUri");
        var blob = setting($"{name}__blobServiceUri");
        if (setting($"{name}__accountName") is { Length: > 0 } account)
        {
            return new StorageEndpoints(
                new Uri(table ?? $"https://{account}.table.core.windows.net"),
                new Uri(blob ?? $"https://{account}.blob.core.windows.net"),
                StorageAuth.Token, account, null, clientId);
        }

        if (table is { Length: > 0 } && blob is { Length: > 0 })
        {
            var tableUri = new Uri(table);
            return new StorageEndpoints(tableUri, new Uri(blob), StorageAuth.Token, tableUri.Host.Split('.')[0], null, clientId);
        }

        throw new InvalidOperationException(
            $"No storage account is configured for '{name}': set '{name}' to a connection string, or '{name}__accountName' (or '{name}__tableServiceUri' and '{name}__blobServiceUri') for identity-based access.");
    }

    /// <summary>Parses an Azure Storage connection string.</summary>
    /// <exception cref="InvalidOperationException">It lacks an account name or key.</exception>
    public static StorageEndpoints FromConnectionString(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);

        if (parts.TryGetValue("UseDevelopmentStorage", out var dev) && dev.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            var proxy = parts.TryGetValue("DevelopmentStorageProxyUri", out var p) ? new Uri(p) : new Uri("http://127.0.0.1");
            return new StorageEndpoints(
                new Uri($"{proxy.Scheme}://{proxy.Host}:10002/{DevelopmentAccount}"),
                new Uri($"{proxy.Scheme}://{proxy.Host}:10000/{DevelopmentAccount}"),
                StorageAuth.SharedKey, DevelopmentAccount, DevelopmentKey, null);
        }

        if (!parts.TryGetValue("AccountName", out var account) || !parts.TryGetValue("AccountKey", out var key))
        {
            throw new InvalidOperationException("The storage connection string needs AccountName and AccountKey (or UseDevelopmentStorage=true).");
        }

        var protocol = parts.GetValueOrDefault("DefaultEndpointsProtocol", "https");
        var suffix = parts.GetValueOrDefault("EndpointSuffix", "core.windows.net");
        return new StorageEndpoints(
            new Uri(parts.GetValueOrDefault("TableEndpoint") ?? $"{protocol}://{account}.table.{suffix}"),
            new Uri(parts.GetValueOrDefault("BlobEndpoint") ?? $"{protocol}://{account}.blob.{suffix}"),
            StorageAuth.SharedKey, account, key, null);
    }

    /// <inheritdoc />
    public override string ToString() => $"{AccountName} (tables {TableEndpoint}, blobs {BlobEndpoint}, {Auth})"; // never the key
}
