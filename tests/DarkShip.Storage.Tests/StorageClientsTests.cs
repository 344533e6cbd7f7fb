using Azure;
using Azure.Core;
using Azure.Data.Tables;
using DarkShip.Storage.Tables;
using DarkShip.Testing.Storage;

namespace DarkShip.Storage.Tests;

/// <summary>
/// The SDK clients as <see cref="StorageClients"/> configures them, against a fake service: which
/// failures are retried and how often, how requests are authenticated, and what the typed outcomes
/// and key checks of <see cref="TableOutcomes"/> do before and after a request.
/// </summary>
public sealed class StorageClientsTests
{
    private static readonly StorageEndpoints Azurite = StorageEndpoints.FromConnectionString("UseDevelopmentStorage=true");

    private static (TableClient Client, FakeTransport Transport) Client(params FakeResponse[] responses)
    {
        var transport = new FakeTransport(responses);
        var clients = new StorageClients(Azurite, configure: options =>
        {
            options.Transport = transport;
            options.Retry.Delay = TimeSpan.FromMilliseconds(1); // DarkShip's retry count and mode, without the waits
            options.Retry.MaxDelay = TimeSpan.FromMilliseconds(2);
        });
        return (clients.Table("features"), transport);
    }

    private static FakeResponse Entity() => new(200, """{"PartitionKey":"p","RowKey":"r","v":1}""", ("ETag", "W/\"1\""));

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task GetEntity_TransientStatus_IsRetriedWithTheSameClientRequestId(int status)
    {
        var (client, transport) = Client(new FakeResponse(status), Entity());

        var entity = await client.GetOrNullAsync("p", "r");

        Assert.Equal(1, entity!["v"]);
        Assert.Equal(2, transport.Requests.Count);
        var ids = transport.Requests.Select(r => r.Headers["x-ms-client-request-id"]).Distinct().ToList();
        Assert.Single(ids);
        Assert.True(Guid.TryParse(ids[0], out _));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(409)]
    public async Task GetEntity_NonTransient4xx_IsNotRetriedAndThrowsWithErrorCode(int status)
    {
        var (client, transport) = Client(new FakeResponse(status, """{"odata.error":{"code":"AuthenticationFailed","message":{"lang":"en-US","value":"Server failed to authenticate the request."}}}""", ("x-ms-error-code", "AuthenticationFailed")));

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetOrNullAsync("p", "r"));

        Assert.Single(transport.Requests);
        Assert.Equal(status, e.Status);
        Assert.Equal("AuthenticationFailed", e.ErrorCode);
    }

    [Fact]
    public async Task GetEntity_TransientEveryTime_GivesUpAfterTheConfiguredRetries()
    {
        var (client, transport) = Client([.. Enumerable.Range(0, 4).Select(_ => new FakeResponse(503))]);

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetOrNullAsync("p", "r"));

        Assert.Equal(503, e.Status);
        Assert.Equal(4, transport.Requests.Count); // the first try and three retries
    }

    [Fact]
    public async Task GetEntity_QuoteInKey_IsDoubledAndPercentEncodedInThePath()
    {
        var (client, transport) = Client(Entity());

        await client.GetOrNullAsync("O'Brien", "a b&c=d");

        Assert.Equal(
            "/devstoreaccount1/features(PartitionKey='O''Brien',RowKey='a b&c=d')",
            Uri.UnescapeDataString(transport.Requests[0].Uri.AbsolutePath));
    }

    [Fact]
    public async Task ConnectionString_EveryRequestIsVersionedDatedAndSigned()
    {
        var (client, transport) = Client(Entity());

        await client.GetOrNullAsync("p", "r");

        var headers = transport.Requests[0].Headers;
        Assert.False(string.IsNullOrEmpty(headers["x-ms-version"]));
        Assert.True(DateTimeOffset.TryParse(headers["x-ms-date"], System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.StartsWith("SharedKeyLite devstoreaccount1:", headers["Authorization"], StringComparison.Ordinal); // the Table SDK signs with SharedKeyLite
    }

    [Fact]
    public async Task IdentityBasedAccount_SendsBearerTokenForTheStorageScope()
    {
        var credential = new RecordingCredential();
        var transport = new FakeTransport(Entity());
        var endpoints = StorageEndpoints.FromSettings(name => name == "AzureWebJobsStorage__accountName" ? "darkship" : null);
        var client = new StorageClients(endpoints, credential, configure: o => o.Transport = transport).Table("features");

        await client.GetOrNullAsync("p", "r");

        Assert.Equal("Bearer token-for-test", transport.Requests[0].Headers["Authorization"]);
        Assert.Equal(["https://storage.azure.com/.default"], credential.Scopes);
        Assert.Equal("https", transport.Requests[0].Uri.Scheme);
        Assert.Equal("darkship.table.core.windows.net", transport.Requests[0].Uri.Host);
    }

    [Fact]
    public async Task UpdateEntity_412_IsAPreconditionFailedOutcomeNotAnException()
    {
        var (client, transport) = Client(new FakeResponse(412, null, ("x-ms-error-code", "UpdateConditionNotSatisfied")));

        var result = await client.TryUpdateAsync(new TableEntity("p", "r") { ["v"] = 2 }, new ETag("W/\"old\""));

        Assert.Equal(TableWriteStatus.PreconditionFailed, result.Status);
        Assert.Equal("W/\"old\"", transport.Requests[0].Headers["If-Match"]);
        Assert.Equal("PATCH", transport.Requests[0].Method); // merge
        Assert.Single(transport.Requests); // a lost race is an answer, not a transient failure
    }

    [Fact]
    public async Task Add_NonFiniteDouble_IsSentAsTheServicesTypedSpelling()
    {
        var (client, transport) = Client(new FakeResponse(204, null, ("ETag", "W/\"1\"")));

        await client.TryAddAsync(new TableEntity("p", "r") { ["n"] = 5L, ["nan"] = double.NaN, ["inf"] = double.PositiveInfinity, ["none"] = null });

        var body = transport.Requests[0].Body!;
        Assert.Contains("\"nan\":\"NaN\"", body, StringComparison.Ordinal);
        Assert.Contains("\"nan@odata.type\":\"Edm.Double\"", body, StringComparison.Ordinal);
        Assert.Contains("\"inf\":\"Infinity\"", body, StringComparison.Ordinal);
        Assert.Contains("\"n@odata.type\":\"Edm.Int64\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("none", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("victim/secret")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("a\\b")]
    [InlineData("line\nbreak")]
    public async Task HostileKey_IsRefusedBeforeAnyRequest(string key)
    {
        var (client, transport) = Client();

        await Assert.ThrowsAsync<ArgumentException>(() => client.GetOrNullAsync(key, "r"));
        await Assert.ThrowsAsync<ArgumentException>(() => client.TryAddAsync(new TableEntity("p", key)));
        await Assert.ThrowsAsync<ArgumentException>(() => client.UpsertAsync(new TableEntity(key, "r")));
        await Assert.ThrowsAsync<ArgumentException>(() => client.TryDeleteAsync("p", key));

        Assert.Empty(transport.Requests);
    }

    [Fact]
    public async Task NetworkTimeout_SlowService_EachTryTimesOutAndIsRetried_ThenTheCallFails()
    {
        var transport = new SlowTransport();
        var client = new StorageClients(Azurite, networkTimeout: TimeSpan.FromMilliseconds(50), configure: o =>
        {
            o.Transport = transport;
            o.Retry.Delay = TimeSpan.FromMilliseconds(1);
        }).Table("features");

        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.GetOrNullAsync("p", "r"));

        Assert.Equal(1 + StorageClients.MaxRetries, transport.Tries);
        Assert.Contains("timeout", e.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    private sealed class RecordingCredential : TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            return new AccessToken("token-for-test", DateTimeOffset.MaxValue);
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    private sealed class SlowTransport : Azure.Core.Pipeline.HttpPipelineTransport
    {
        private int tries;

        public int Tries => tries;

        public override Request CreateRequest() => new Azure.Core.Pipeline.HttpClientTransport().CreateRequest();

        public override void Process(HttpMessage message) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message)
        {
            Interlocked.Increment(ref tries);
            await Task.Delay(Timeout.Infinite, message.CancellationToken);
        }
    }
}

public sealed class RequestLogPolicyTests
{
    [Fact]
    public async Task Logs_NameNoEntityKey_InAPathOrAQuery()
    {
        var loggers = new RecordingLoggers();
        var transport = new FakeTransport(new FakeResponse(500), new FakeResponse(500));
        var client = new StorageClients(StorageEndpoints.FromConnectionString("UseDevelopmentStorage=true"), loggers: loggers, configure: options =>
        {
            options.Transport = transport;
            options.Retry.MaxRetries = 1;
            options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        }).Table("features");

        await Assert.ThrowsAsync<RequestFailedException>(() => client.GetOrNullAsync("customer-4711", "latest"));

        Assert.NotEmpty(loggers.Lines);
        Assert.All(loggers.Lines, l => Assert.DoesNotContain("customer-4711", l, StringComparison.Ordinal));
        Assert.Contains(loggers.Lines, l => l.Contains("features(…)", StringComparison.Ordinal));
    }

    private sealed class RecordingLoggers : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Lines { get; } = [];

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
        {
        }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }
}
