// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace HandWritten;

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
