using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace DarkShip.Storage.Pipeline;

/// <summary>Stamps every try with the REST API version and the request date (which SharedKey signs).</summary>
internal sealed class ServiceVersionPolicy(StorageService service, TimeProvider time) : HttpPipelineSynchronousPolicy
{
    public const string TableVersion = "2019-02-02";
    public const string BlobVersion = "2021-12-02";

    public override void OnSendingRequest(HttpMessage message)
    {
        message.Request.Headers.SetValue("x-ms-version", service == StorageService.Table ? TableVersion : BlobVersion);
        message.Request.Headers.SetValue("x-ms-date", time.GetUtcNow().ToString("R", CultureInfo.InvariantCulture));
    }
}
