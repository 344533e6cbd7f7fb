using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using DarkShip.Storage.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Storage;

/// <summary>
/// The one factory of every storage client the app uses: Azure.Data.Tables' <see cref="TableServiceClient"/>
/// and Azure.Storage.Blobs' <see cref="BlobServiceClient"/> for the account <see cref="StorageEndpoints"/>
/// names, authenticated as the Functions host would (a shared key from a connection string for Azurite,
/// a <see cref="TokenCredential"/> for identity-based settings), all with the same client options.
/// Thread-safe; make one per account and keep it: the clients share its HTTP connections.
/// </summary>
public sealed class StorageClients
{
    /// <summary>Retries after the first try (exponential, with jitter): transient failures only (408, 429, 5xx, dropped connections).</summary>
    public const int MaxRetries = 3;

    /// <summary>The first retry's delay; each next one doubles, up to <see cref="MaxRetryDelay"/>.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between two tries.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(4);

    /// <summary>Default per-try network timeout: a try that has not answered by then counts as a timeout and is retried.</summary>
    public static readonly TimeSpan DefaultNetworkTimeout = TimeSpan.FromSeconds(10);

    private readonly Lazy<BlobServiceClient> blobs;

    /// <summary>Clients for the account <paramref name="endpoints"/> names.</summary>
    /// <param name="endpoints">The account, from app settings (<see cref="StorageEndpoints.FromSettings"/>).</param>
    /// <param name="credential">Required for identity-based access; ignored for connection strings.</param>
    /// <param name="loggers">Where each try is logged with its <c>x-ms-client-request-id</c> (Debug; failures as Warning).</param>
    /// <param name="networkTimeout">The per-try network timeout (default <see cref="DefaultNetworkTimeout"/>).</param>
    /// <param name="configure">Changes to the options after DarkShip's (tests and benchmarks: a fake transport, a counting policy).</param>
    public StorageClients(StorageEndpoints endpoints, TokenCredential? credential = null, ILoggerFactory? loggers = null, TimeSpan? networkTimeout = null, Action<ClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        TableEntityBinding.SkipUnusedBinder(); // ~30 ms of the first query, for a binder no TableEntity query uses
        Endpoints = endpoints;
        loggers ??= NullLoggerFactory.Instance;
        var tableOptions = Configure(new TableClientOptions(), "Table", loggers, networkTimeout, configure);
        if (endpoints.ConnectionString is { } connectionString)
        {
            Tables = new TableServiceClient(connectionString, tableOptions);
            blobs = new(() => new BlobServiceClient(connectionString, Configure(new BlobClientOptions(), "Blob", loggers, networkTimeout, configure)));
        }
        else
        {
            ArgumentNullException.ThrowIfNull(credential, nameof(credential));
            Tables = new TableServiceClient(endpoints.TableEndpoint, credential, tableOptions);
            blobs = new(() => new BlobServiceClient(endpoints.BlobEndpoint, credential, Configure(new BlobClientOptions(), "Blob", loggers, networkTimeout, configure)));
        }
    }

    /// <summary>The account.</summary>
    public StorageEndpoints Endpoints { get; }

    /// <summary>The account's Table service.</summary>
    public TableServiceClient Tables { get; }

    /// <summary>The account's Blob service, made when first used: loading Azure.Storage.Blobs and building its pipeline cost a cold start ~20 ms before the first registry read, which needs tables only.</summary>
    public BlobServiceClient Blobs => blobs.Value;

    /// <summary>A client for one table (its name is checked here: the SDK sends any).</summary>
    public TableClient Table(string name)
    {
        global::DarkShip.Storage.Tables.TableKeys.ValidateTableName(name, nameof(name));
        return Tables.GetTableClient(name);
    }

    /// <summary>A client for one blob container.</summary>
    public BlobContainerClient Container(string name) => Blobs.GetBlobContainerClient(name);

    /// <summary>A client for one blob container, made when first used (see <see cref="Blobs"/>).</summary>
    public Lazy<BlobContainerClient> LazyContainer(string name) => new(() => Container(name));

    private static T Configure<T>(T options, string service, ILoggerFactory loggers, TimeSpan? networkTimeout, Action<ClientOptions>? configure)
        where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.Delay = RetryDelay;
        options.Retry.MaxDelay = MaxRetryDelay;
        options.Retry.NetworkTimeout = networkTimeout ?? DefaultNetworkTimeout;
        // The SDK's own log (Azure-Core events, forwarded to ILogger by the host) carries the request id;
        // this line adds the redacted path and the duration of every try.
        options.AddPolicy(new RequestLogPolicy(service, loggers), HttpPipelinePosition.PerRetry);
        options.Diagnostics.IsDistributedTracingEnabled = true;
        configure?.Invoke(options);
        return options;
    }
}
