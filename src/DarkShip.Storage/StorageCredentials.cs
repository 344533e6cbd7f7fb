using Azure.Core;
using Azure.Identity;

namespace DarkShip.Storage;

/// <summary>The credential for identity-based storage settings, chosen as the Functions host chooses it.</summary>
public static class StorageCredentials
{
    /// <summary>
    /// <see langword="null"/> for connection strings (they carry a key); for identity-based settings, a
    /// <see cref="ManagedIdentityCredential"/> when <c>__credential</c> is <c>managedidentity</c> (the
    /// user-assigned identity <c>__clientId</c>, or the system-assigned one), else a
    /// <see cref="DefaultAzureCredential"/> (managed identity in Azure, a developer login elsewhere).
    /// </summary>
    public static TokenCredential? For(StorageEndpoints endpoints, string? credentialSetting = null)
    {
        return endpoints.Auth == StorageAuth.SharedKey ? null : ForIdentity(credentialSetting, endpoints.ClientId);
    }

    /// <summary>
    /// The credential of any identity-based connection (<c>{name}__credential</c>, <c>{name}__clientId</c>),
    /// storage or Event Hubs alike.
    /// </summary>
    public static TokenCredential ForIdentity(string? credentialSetting, string? clientId)
    {
        if (string.Equals(credentialSetting, "managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            return clientId is { Length: > 0 }
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
        }

        return new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
    }
}
