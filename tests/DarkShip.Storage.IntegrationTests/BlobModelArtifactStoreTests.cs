using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;

namespace DarkShip.Storage.IntegrationTests;

/// <summary>Model files on Azure.Storage.Blobs (Azurite): SHA-256 stored and verified, small files revalidated with If-None-Match.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlobModelArtifactStoreTests(AzuriteFixture azurite)
{
    private readonly StatusRecorder statuses = new();

    private async Task<(BlobModelArtifactStore Store, BlobContainerClient Container)> NewStoreAsync()
    {
        var clients = new StorageClients(azurite.Endpoints, configure: o => o.AddPolicy(statuses, HttpPipelinePosition.PerRetry));
        var container = clients.Container("c" + Guid.NewGuid().ToString("N")[..20]);
        var store = new BlobModelArtifactStore(container);
        await store.EnsureCreatedAsync();
        return (store, container);
    }

    [Fact]
    public async Task UploadThenDownload_StoresTheSha256AsMetadata_AndVerifiesIt()
    {
        var (store, container) = await NewStoreAsync();
        var bytes = RandomNumberGenerator.GetBytes(3_000_000); // larger than one revalidated file

        var sha = await store.UploadAsync("fraud/7/model.json", bytes);
        var downloaded = await store.DownloadAsync("fraud/7/model.json", sha);
        var properties = (await container.GetBlobClient("fraud/7/model.json").GetPropertiesAsync()).Value;

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha);
        Assert.Equal(bytes, downloaded);
        Assert.Equal(sha, properties.Metadata[BlobModelArtifactStore.Sha256Metadata]);
        Assert.Equal(bytes.Length, properties.ContentLength);
        Assert.Equal("application/json", properties.ContentType);
    }

    [Fact]
    public async Task Download_ContentTamperedWith_IsRefused()
    {
        var (store, container) = await NewStoreAsync();
        var sha = await store.UploadAsync("fraud/1/model.json", Encoding.UTF8.GetBytes("{\"learner\":{}}"));
        await container.GetBlobClient("fraud/1/model.json").UploadAsync(BinaryData.FromString("{\"learner\":{\"evil\":1}}"), overwrite: true);

        var e = await Assert.ThrowsAsync<ModelArtifactException>(() => store.DownloadAsync("fraud/1/model.json", sha));

        Assert.Contains("not the registered file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Download_SmallFileAgain_IsRevalidatedWithIfNoneMatch_AndAChangeIsSeen()
    {
        var (store, container) = await NewStoreAsync();
        var v1 = Encoding.UTF8.GetBytes("{\"v\":1}");
        var sha1 = await store.UploadAsync("fraud/1/manifest.json", v1);

        await store.DownloadAsync("fraud/1/manifest.json", sha1);
        statuses.Clear();
        var again = await store.DownloadAsync("fraud/1/manifest.json", sha1);
        var revalidation = statuses.Snapshot();

        // Someone replaces the file behind the registry's back: the cached bytes are not served, the new ones are refused.
        await container.GetBlobClient("fraud/1/manifest.json").UploadAsync(BinaryData.FromString("{\"v\":2}"), overwrite: true);
        statuses.Clear();
        await Assert.ThrowsAsync<ModelArtifactException>(() => store.DownloadAsync("fraud/1/manifest.json", sha1));

        Assert.Equal(v1, again);
        Assert.Equal([304], revalidation);
        Assert.Equal([200], statuses.Snapshot());
    }

    [Fact]
    public async Task MissingFile_IsAModelArtifactError()
    {
        var (store, _) = await NewStoreAsync();

        var e = await Assert.ThrowsAsync<ModelArtifactException>(() => store.DownloadAsync("nope/1/model.json", new string('0', 64)));

        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../other-container/x")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData("a/\u0001/b")]
    public async Task PathWithTricks_IsRefusedBeforeSending(string path)
    {
        var (store, _) = await NewStoreAsync();
        statuses.Clear();

        await Assert.ThrowsAsync<ArgumentException>(() => store.DownloadAsync(path, new string('0', 64)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.UploadAsync(path, new byte[1]));

        Assert.Empty(statuses.Snapshot());
    }

    [Fact]
    public async Task PathWithSpacesAndUnicode_RoundTrips()
    {
        var (store, _) = await NewStoreAsync();

        var sha = await store.UploadAsync("fraud v7/modèle #1/model.json", Encoding.UTF8.GetBytes("x"));

        Assert.Equal("x", Encoding.UTF8.GetString(await store.DownloadAsync("fraud v7/modèle #1/model.json", sha)));
    }

    /// <summary>The status of every try, in order.</summary>
    private sealed class StatusRecorder : HttpPipelineSynchronousPolicy
    {
        private readonly List<int> seen = [];

        public override void OnReceivedResponse(HttpMessage message)
        {
            lock (seen)
            {
                seen.Add(message.Response.Status);
            }
        }

        public void Clear()
        {
            lock (seen)
            {
                seen.Clear();
            }
        }

        public int[] Snapshot()
        {
            lock (seen)
            {
                return [.. seen];
            }
        }
    }
}
