namespace DarkShip.Storage.Tests;

public sealed class StorageEndpointsTests
{
    [Fact]
    public void FromSettings_DevelopmentStorage_PointsAtAzuriteOnLoopbackWithSharedKey()
    {
        var endpoints = StorageEndpoints.FromSettings(Settings(("AzureWebJobsStorage", "UseDevelopmentStorage=true")));

        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), endpoints.TableEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), endpoints.BlobEndpoint);
        Assert.Equal(StorageAuth.SharedKey, endpoints.Auth);
        Assert.Equal("devstoreaccount1", endpoints.AccountName);
    }

    [Fact]
    public void FromSettings_AccountName_IsIdentityBased()
    {
        var endpoints = StorageEndpoints.FromSettings(Settings(("AzureWebJobsStorage__accountName", "darkshipprod"), ("AzureWebJobsStorage__clientId", "abc")));

        Assert.Equal(new Uri("https://darkshipprod.table.core.windows.net"), endpoints.TableEndpoint);
        Assert.Equal(new Uri("https://darkshipprod.blob.core.windows.net"), endpoints.BlobEndpoint);
        Assert.Equal(StorageAuth.Token, endpoints.Auth);
        Assert.Null(endpoints.ConnectionString);
        Assert.Equal("abc", endpoints.ClientId);
    }

    [Fact]
    public void FromSettings_ServiceUris_AreUsedAsGiven()
    {
        var endpoints = StorageEndpoints.FromSettings(Settings(
            ("Features__tableServiceUri", "https://feat.table.core.windows.net"),
            ("Features__blobServiceUri", "https://feat.blob.core.windows.net")), "Features");

        Assert.Equal("feat", endpoints.AccountName);
        Assert.Equal(StorageAuth.Token, endpoints.Auth);
    }

    [Fact]
    public void FromSettings_ConnectionString_WithSuffix()
    {
        var endpoints = StorageEndpoints.FromSettings(Settings(("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn")));

        Assert.Equal(new Uri("https://acct.table.core.chinacloudapi.cn"), endpoints.TableEndpoint);
        Assert.Equal("acct", endpoints.AccountName);
        Assert.Equal(StorageAuth.SharedKey, endpoints.Auth);
        Assert.DoesNotContain("a2V5", endpoints.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromConnectionString_Unreadable_ThrowsSayingWhatItNeeds()
    {
        var e = Assert.Throws<InvalidOperationException>(() => StorageEndpoints.FromConnectionString("AccountName=acct"));

        Assert.Contains("AccountKey", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromSettings_Nothing_ThrowsNamingTheSettings()
    {
        var e = Assert.Throws<InvalidOperationException>(() => StorageEndpoints.FromSettings(Settings()));

        Assert.Contains("AzureWebJobsStorage__accountName", e.Message, StringComparison.Ordinal);
    }

    private static Func<string, string?> Settings(params (string Key, string Value)[] values) =>
        key => values.FirstOrDefault(v => v.Key == key).Value;
}

public sealed class StorageCredentialsTests
{
    [Fact]
    public void For_ConnectionString_IsNoCredential()
    {
        Assert.Null(StorageCredentials.For(StorageEndpoints.FromConnectionString("UseDevelopmentStorage=true")));
    }

    [Fact]
    public void For_ManagedIdentitySetting_IsManagedIdentityCredential()
    {
        var endpoints = StorageEndpoints.FromSettings(n => n switch
        {
            "AzureWebJobsStorage__accountName" => "darkship",
            "AzureWebJobsStorage__clientId" => "00000000-0000-0000-0000-000000000001",
            _ => null,
        });

        Assert.IsType<Azure.Identity.ManagedIdentityCredential>(StorageCredentials.For(endpoints, "managedidentity"));
        Assert.IsType<Azure.Identity.DefaultAzureCredential>(StorageCredentials.For(endpoints));
    }
}
