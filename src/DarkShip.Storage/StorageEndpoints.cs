using Azure.Data.Tables;
using Azure.Storage.Blobs;

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
/// a connection string (<c>UseDevelopmentStorage=true</c> for Azurite), parsed by the Azure SDK and
/// handed to it as it is, or identity-based settings (<c>{name}__accountName</c>, or
/// <c>{name}__tableServiceUri</c> and <c>{name}__blobServiceUri</c>, with optional <c>__credential</c>
/// and <c>__clientId</c>), which the SDK has no reader for.
/// </summary>
public sealed class StorageEndpoints
{
    private readonly Lazy<Uri> blobEndpoint;

    private StorageEndpoints(Uri tableEndpoint, Func<Uri> blobEndpoint, StorageAuth auth, string accountName, string? clientId)
    {
        TableEndpoint = tableEndpoint;
        this.blobEndpoint = new Lazy<Uri>(blobEndpoint);
        Auth = auth;
        AccountName = accountName;
        ClientId = clientId;
    }

    /// <summary>The Table service's endpoint.</summary>
    public Uri TableEndpoint { get; }

    /// <summary>The Blob service's endpoint; for a connection string, read when first asked (start-up reads tables only).</summary>
    public Uri BlobEndpoint => blobEndpoint.Value;

    /// <summary>How the clients authenticate.</summary>
    public StorageAuth Auth { get; }

    /// <summary>The account's name.</summary>
    public string AccountName { get; }

    /// <summary>The user-assigned identity's client id, for identity-based settings.</summary>
    public string? ClientId { get; }

    /// <summary>Azurite's well-known development account and key (public, documented by Microsoft).</summary>
    public const string DevelopmentAccount = "devstoreaccount1";

    /// <summary>Azurite's well-known development key (public, documented by Microsoft; useless against Azure).</summary>
    public const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The connection string these endpoints came from (it carries the key); <see langword="null"/> for identity-based settings.</summary>
    public string? ConnectionString { get; init; }

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
            var blobUri = new Uri(blob ?? $"https://{account}.blob.core.windows.net");
            return new StorageEndpoints(new Uri(table ?? $"https://{account}.table.core.windows.net"), () => blobUri, StorageAuth.Token, account, clientId);
        }

        if (table is { Length: > 0 } && blob is { Length: > 0 })
        {
            var tableUri = new Uri(table);
            var blobUri = new Uri(blob);
            return new StorageEndpoints(tableUri, () => blobUri, StorageAuth.Token, tableUri.Host.Split('.')[0], clientId);
        }

        throw new InvalidOperationException(
            $"No storage account is configured for '{name}': set '{name}' to a connection string, or '{name}__accountName' (or '{name}__tableServiceUri' and '{name}__blobServiceUri') for identity-based access.");
    }

    /// <summary>The endpoints of an Azure Storage connection string, as the Azure SDK reads it.</summary>
    /// <exception cref="InvalidOperationException">The SDK cannot read it.</exception>
    public static StorageEndpoints FromConnectionString(string connectionString)
    {
        try
        {
            var tables = new TableServiceClient(connectionString);
            return new StorageEndpoints(tables.Uri, () => new BlobServiceClient(connectionString).Uri, StorageAuth.SharedKey, tables.AccountName, null) { ConnectionString = connectionString };
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The storage connection string cannot be read ({e.Message}): it needs AccountName and AccountKey, or UseDevelopmentStorage=true.", e);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{AccountName} (tables {TableEndpoint}, blobs {BlobEndpoint}, {Auth})"; // never the key
}
