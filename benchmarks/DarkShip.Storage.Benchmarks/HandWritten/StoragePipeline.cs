// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using DarkShip.Storage;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace HandWritten;

/// <summary>
/// Builds the Azure.Core pipeline of a storage client: Azure.Core's own policies (client request id,
/// retries with backoff, per-try network timeout), then per try: the service version and date,
/// authentication (a bearer token from a <see cref="TokenCredential"/> in Azure, SharedKey for
/// connection strings), and a log line carrying the request id.
/// </summary>
internal static class StoragePipeline
{
    /// <summary>The OAuth scope of Azure Storage.</summary>
    public const string StorageScope = "https://storage.azure.com/.default";

    public static HttpPipeline Build(StorageService service, StorageEndpoints endpoints, TokenCredential? credential, StorageClientOptions options)
    {
        HttpPipelinePolicy authentication = endpoints.Auth switch
        {
            StorageAuth.SharedKey => new SharedKeyPolicy(service, endpoints.AccountName, AccountKey(endpoints)),
            _ => new BearerTokenAuthenticationPolicy(
                credential ?? throw new ArgumentNullException(nameof(credential), $"{endpoints} uses identity-based access: pass a TokenCredential."),
                StorageScope),
        };

        return HttpPipelineBuilder.Build(
            options,
            perCallPolicies: [],
            perRetryPolicies: [new ServiceVersionPolicy(service, options.TimeProvider), authentication, new RequestLogPolicy(service, options.LoggerFactory)],
            new ResponseClassifier());
    }

    // DarkShip.Storage no longer parses keys out of connection strings (the SDK does); the benchmark's copy does.
    private static string AccountKey(StorageEndpoints endpoints) =>
        endpoints.ConnectionString!.Split(';').Select(p => p.Split('=', 2)).First(p => p[0] == "AccountKey")[1];

    /// <summary>
    /// Sends <paramref name="message"/>, all tries within <paramref name="callTimeout"/>; a call that
    /// runs out of time throws <see cref="TimeoutException"/> naming its request id. The caller's own
    /// cancellation still surfaces as cancellation.
    /// </summary>
    public static async Task<Response> SendAsync(this HttpPipeline pipeline, HttpMessage message, TimeSpan callTimeout, string target, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(callTimeout);
        try
        {
            await pipeline.SendAsync(message, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{target}: the call did not finish within {callTimeout.TotalSeconds:0.#} s (x-ms-client-request-id {message.Request.ClientRequestId}).");
        }

        return message.Response;
    }
}

/// <summary>Which storage service a pipeline talks to; they sign and version requests differently.</summary>
internal enum StorageService
{
    Table,
    Blob,
}
