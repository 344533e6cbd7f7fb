using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace DarkShip.Storage.Pipeline;

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
            StorageAuth.SharedKey => new SharedKeyPolicy(service, endpoints.AccountName, endpoints.AccountKey!),
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
