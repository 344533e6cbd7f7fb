using System.Security.Cryptography;
using System.Text;
using Azure;
using DarkShip.Storage.Blobs;

namespace DarkShip.Storage.IntegrationTests;

[Collection(AzuriteCollection.Name)]
public sealed class BlobContainerClientTests(AzuriteFixture azurite)
{
    private async Task<BlobContainerClient> NewContainerAsync()
    {
        var container = new BlobContainerClient(azurite.Endpoints, "c" + Guid.NewGuid().ToString("N")[..20]);
        Assert.True(await container.CreateIfNotExistsAsync());
        return container;
    }

    [Fact]
    public async Task UploadThenDownload_VerifiesAgainstStoredSha256()
    {
        var container = await NewContainerAsync();
        var bytes = RandomNumberGenerator.GetBytes(300_000);

        var uploaded = await container.UploadAsync("fraud/7/model.json", bytes, "application/json");
        var downloaded = await container.DownloadAsync("fraud/7/model.json");
        var properties = await container.GetPropertiesAsync("fraud/7/model.json");

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), uploaded.Sha256);
        Assert.NotNull(downloaded);
        Assert.False(downloaded.NotModified);
        Assert.Equal(bytes, downloaded.Content);
        Assert.Equal(uploaded.ETag, downloaded.ETag);
        Assert.Equal(uploaded.Sha256, properties!.Sha256);
        Assert.Equal(bytes.Length, properties.Length);
        Assert.Equal("application/json", properties.ContentType);
    }

    [Fact]
    public async Task Download_ExpectedShaDiffers_ThrowsIntegrityError()
    {
        var container = await NewContainerAsync();
        await container.UploadAsync("m.json", Encoding.UTF8.GetBytes("{\"learner\":{}}"));

        var e = await Assert.ThrowsAsync<BlobIntegrityException>(() => container.DownloadAsync("m.json", expectedSha256: new string('0', 64)));

        Assert.Contains("not the expected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_IfNoneMatchCurrentETag_IsNotModifiedAndSendsNoBytes()
    {
        var container = await NewContainerAsync();
        var first = await container.UploadAsync("m.json", Encoding.UTF8.GetBytes("v1"));

        var unchanged = await container.DownloadAsync("m.json", ifNoneMatch: first.ETag);
        var second = await container.UploadAsync("m.json", Encoding.UTF8.GetBytes("v2"));
        var changed = await container.DownloadAsync("m.json", ifNoneMatch: first.ETag);

        Assert.True(unchanged!.NotModified);
        Assert.Empty(unchanged.Content);
        Assert.False(changed!.NotModified);
        Assert.Equal("v2", Encoding.UTF8.GetString(changed.Content));
        Assert.Equal(second.ETag, changed.ETag);
    }

    [Fact]
    public async Task MissingBlob_PropertiesAndDownloadAreNull_DeleteReportsFalse()
    {
        var container = await NewContainerAsync();

        Assert.Null(await container.GetPropertiesAsync("nope"));
        Assert.Null(await container.DownloadAsync("nope"));
        Assert.False(await container.DeleteIfExistsAsync("nope"));
    }

    [Theory]
    [InlineData("../other-container/x")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    public async Task BlobName_WithPathTricks_IsRefusedBeforeSending(string name)
    {
        var container = await NewContainerAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => container.DownloadAsync(name));
    }

    [Fact]
    public async Task BlobName_WithSpacesAndUnicode_RoundTrips()
    {
        var container = await NewContainerAsync();

        await container.UploadAsync("models/fraud v7/modèle #1.json", Encoding.UTF8.GetBytes("x"));

        Assert.NotNull(await container.GetPropertiesAsync("models/fraud v7/modèle #1.json"));
        Assert.True(await container.DeleteIfExistsAsync("models/fraud v7/modèle #1.json"));
    }
}
