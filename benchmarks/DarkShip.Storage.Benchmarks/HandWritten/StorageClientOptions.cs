// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using Azure.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HandWritten;

/// <summary>
/// Options of DarkShip's Table and Blob clients. Retries come from Azure.Core's policy: transient
/// failures (408, 429, 500, 502, 503, 504, timeouts and dropped connections) are retried with
/// exponential backoff and jitter; any other 4xx is not.
/// </summary>
public sealed class StorageClientOptions : ClientOptions
{
    /// <summary>Creates options with DarkShip's defaults.</summary>
    public StorageClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;                         // default: 3 retries after the first try
        Retry.Delay = TimeSpan.FromMilliseconds(200); // default: 0.2 s, doubling, with jitter
        Retry.MaxDelay = TimeSpan.FromSeconds(4);     // default: at most 4 s between tries
        Retry.NetworkTimeout = TimeSpan.FromSeconds(10); // default: 10 s per try, then it counts as a timeout and is retried
    }

    /// <summary>
    /// Longest a whole call may take, all tries included (default 30 s). It bounds callers that
    /// pass no cancellation token; a token that fires sooner wins.
    /// </summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock that stamps <c>x-ms-date</c> on signed requests (default: the system clock).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where each call is logged with its <c>x-ms-client-request-id</c> (default: nowhere).</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;
}
