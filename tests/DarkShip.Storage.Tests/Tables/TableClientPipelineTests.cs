using Azure;
using Azure.Core;
using DarkShip.Storage.Pipeline;
using DarkShip.Storage.Tables;
using DarkShip.Storage.Tests.Fakes;

namespace DarkShip.Storage.Tests.Tables;

public sealed class TableClientPipelineTests
{
    private static readonly StorageEndpoints Azurite = StorageEndpoints.FromConnectionString("UseDevelopmentStorage=true");

    private static (TableClient Client, FakeTransport Transport) Client(params FakeResponse[] responses)
    {
        var transport = new FakeTransport(responses);
        var options = new StorageClientOptions { Transport = transport };
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(2);
        return (new TableClient(Azurite, "features", options: options), transport);
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

        var entity = await client.GetEntityAsync("p", "r");

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

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetEntityAsync("p", "r"));

        Assert.Single(transport.Requests);
        Assert.Equal(status, e.Status);
        Assert.Equal("AuthenticationFailed", e.ErrorCode);
    }

    [Fact]
    public async Task GetEntity_TransientEveryTime_GivesUpAfterTheConfiguredRetries()
    {
        var (client, transport) = Client([.. Enumerable.Range(0, 4).Select(_ => new FakeResponse(503))]);

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetEntityAsync("p", "r"));

        Assert.Equal(503, e.Status);
        Assert.Equal(4, transport.Requests.Count); // the first try and three retries
    }

    [Fact]
    public async Task GetEntity_QuoteInKey_IsDoubledAndPercentEncodedInThePath()
    {
        var (client, transport) = Client(Entity());

        await client.GetEntityAsync("O'Brien", "a b&c=d");

        Assert.Equal(
            "/devstoreaccount1/features(PartitionKey=%27O%27%27Brien%27,RowKey=%27a%20b%26c%3Dd%27)",
            transport.Requests[0].Uri.AbsolutePath);
    }

    [Fact]
    public async Task EveryRequest_IsVersionedDatedAndSignedWithSharedKey()
    {
        var (client, transport) = Client(Entity());

        await client.GetEntityAsync("p", "r");

        var headers = transport.Requests[0].Headers;
        Assert.Equal(ServiceVersionPolicy.TableVersion, headers["x-ms-version"]);
        Assert.True(DateTimeOffset.TryParse(headers["x-ms-date"], System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.StartsWith("SharedKey devstoreaccount1:", headers["Authorization"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdentityBasedAccount_SendsBearerTokenForTheStorageScope()
    {
        var credential = new RecordingCredential();
        var transport = new FakeTransport(Entity());
        var endpoints = StorageEndpoints.FromSettings(name => name == "AzureWebJobsStorage__accountName" ? "darkship" : null);
        var client = new TableClient(endpoints, "features", credential, new StorageClientOptions { Transport = transport });

        await client.GetEntityAsync("p", "r");

        Assert.Equal("Bearer token-for-test", transport.Requests[0].Headers["Authorization"]);
        Assert.Equal(["https://storage.azure.com/.default"], credential.Scopes);
        Assert.Equal("https", transport.Requests[0].Uri.Scheme);
        Assert.Equal("darkship.table.core.windows.net", transport.Requests[0].Uri.Host);
    }

    [Fact]
    public async Task UpdateEntity_412_IsAPreconditionFailedOutcomeNotAnException()
    {
        var (client, transport) = Client(new FakeResponse(412, null, ("x-ms-error-code", "UpdateConditionNotSatisfied")));

        var result = await client.UpdateEntityAsync(new TableEntity("p", "r") { ["v"] = 2 }, new ETag("W/\"old\""));

        Assert.Equal(TableWriteStatus.PreconditionFailed, result.Status);
        Assert.Equal("W/\"old\"", transport.Requests[0].Headers["If-Match"]);
        Assert.Equal("MERGE", transport.Requests[0].Method);
    }

    [Fact]
    public async Task AddEntity_Body_CarriesODataTypesForWhatJsonCannotSay()
    {
        var (client, transport) = Client(new FakeResponse(204, null, ("ETag", "W/\"1\"")));

        await client.AddEntityAsync(new TableEntity("p", "r") { ["n"] = 5L, ["d"] = 2.0, ["i"] = 3, ["s"] = "x" });

        var body = transport.Requests[0].Body!;
        Assert.Contains("\"n@odata.type\":\"Edm.Int64\",\"n\":\"5\"", body, StringComparison.Ordinal);
        Assert.Contains("\"d@odata.type\":\"Edm.Double\",\"d\":2", body, StringComparison.Ordinal);
        Assert.Contains("\"i\":3", body, StringComparison.Ordinal);
        Assert.DoesNotContain("i@odata.type", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTimeout_SlowService_ThrowsTimeoutNamingTheRequestId()
    {
        var transport = new SlowTransport();
        var options = new StorageClientOptions { Transport = transport, CallTimeout = TimeSpan.FromMilliseconds(100) };
        options.Retry.MaxRetries = 0;
        var client = new TableClient(Azurite, "features", options: options);

        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.GetEntityAsync("p", "r"));

        Assert.Contains("x-ms-client-request-id", e.Message, StringComparison.Ordinal);
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
        public override Request CreateRequest() => new Azure.Core.Pipeline.HttpClientTransport().CreateRequest();

        public override void Process(HttpMessage message) => throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message) =>
            await Task.Delay(Timeout.Infinite, message.CancellationToken);
    }
}

public sealed class RequestLogPolicyTests
{
    [Fact]
    public async Task Logs_NameNoEntityKey_InAPathOrAQuery()
    {
        var loggers = new RecordingLoggers();
        var transport = new FakeTransport(new FakeResponse(500), new FakeResponse(500));
        var options = new StorageClientOptions { Transport = transport, LoggerFactory = loggers };
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        var client = new TableClient(StorageEndpoints.FromConnectionString("UseDevelopmentStorage=true"), "features", options: options);

        await Assert.ThrowsAsync<RequestFailedException>(() => client.GetEntityAsync("customer-4711", "latest"));

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
