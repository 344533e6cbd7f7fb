using System.Net.Sockets;
using DarkShip.Serving.Registry;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// What an operator verb reports as "the storage account could not be used" (exit 1) rather than a crash: the service
/// refusing or failing a request, a model file not as registered, the network failing, a storage call's own time-out —
/// and the Azure SDK's <see cref="AggregateException"/> once its retries against an unreachable endpoint run out.
/// </summary>
internal static class StorageFailure
{
    /// <summary>Whether <paramref name="e"/> is such a failure; a cancellation is one only when <paramref name="cancellationToken"/> did not ask for it.</summary>
    public static bool Is(Exception e, CancellationToken cancellationToken = default) => e switch
    {
        Azure.RequestFailedException or HttpRequestException or ModelArtifactException or TimeoutException or SocketException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(inner => Is(inner, cancellationToken)),
        _ => false,
    };
}
