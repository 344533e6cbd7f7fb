using System.Buffers;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace DarkShip.EventHubs;

/// <summary>One event to send: its body, and the key that keeps related events in one partition.</summary>
public readonly record struct OutgoingEvent(string Body, string? PartitionKey);

/// <summary>What became of the events of one <see cref="EventHubProducerClient.SendAsync"/>.</summary>
/// <param name="Sent">Events the hub took.</param>
/// <param name="Refused">Events the hub refused (or that exceed the request size): sending them again cannot help.</param>
/// <param name="Failed">Events not sent because the hub failed or could not be reached after the retries.</param>
/// <param name="Error">The first error.</param>
public readonly record struct SendResult(int Sent, int Refused, int Failed, Exception? Error);

/// <summary>Options of an <see cref="EventHubProducerClient"/>.</summary>
public sealed class EventHubProducerClientOptions : ClientOptions
{
    /// <summary>Sets the retry defaults: 3 retries from 0.5 s, 10 s per try.</summary>
    public EventHubProducerClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(500);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>Largest request body sent at once; a larger batch goes in several requests. Default 256 KiB (the Basic tier's limit).</summary>
    public int MaxRequestBytes { get; set; } = 256 * 1024;
}

/// <summary>
/// Sends events with the Event Hubs REST API: <c>POST https://{namespace}/{hub}/messages</c> with
/// <c>application/vnd.microsoft.servicebus.json</c>, a JSON array of
/// <c>{"Body": "…", "BrokerProperties": {"PartitionKey": "…"}}</c>, authenticated with a bearer token
/// for <c>https://eventhubs.azure.net/.default</c>. The local runner's hub answers the same request
/// on loopback over plain HTTP, without a token.
/// </summary>
public sealed class EventHubProducerClient
{
    /// <summary>The OAuth scope of Event Hubs.</summary>
    public const string Scope = "https://eventhubs.azure.net/.default";

    /// <summary>The content type of a batch.</summary>
    public const string BatchContentType = "application/vnd.microsoft.servicebus.json";

    private readonly HttpPipeline pipeline;
    private readonly Uri messagesUri;
    private readonly int maxRequestBytes;

    /// <summary>Creates a client for <paramref name="hub"/> in the namespace at <paramref name="namespaceUri"/>.</summary>
    /// <param name="namespaceUri"><c>https://{name}.servicebus.windows.net/</c>, or the local runner's <c>http://127.0.0.1:7071/eventhubs/</c>.</param>
    /// <param name="hub">The event hub, e.g. <c>mirror</c>.</param>
    /// <param name="credential">Entra credential; <see langword="null"/> only for a loopback hub.</param>
    /// <param name="options">Retries and request size.</param>
    public EventHubProducerClient(Uri namespaceUri, string hub, TokenCredential? credential, EventHubProducerClientOptions? options = null)
    {
        options ??= new EventHubProducerClientOptions();
        if (credential is null && !namespaceUri.IsLoopback)
        {
            throw new ArgumentNullException(nameof(credential), $"{namespaceUri} is not a local hub: pass a TokenCredential.");
        }

        Hub = hub;
        maxRequestBytes = options.MaxRequestBytes;
        messagesUri = new Uri(namespaceUri, Uri.EscapeDataString(hub) + "/messages?timeout=60&api-version=2014-01");
        pipeline = HttpPipelineBuilder.Build(
            options,
            perCallPolicies: [],
            perRetryPolicies: credential is null ? [] : [new BearerTokenAuthenticationPolicy(credential, Scope)],
            new ResponseClassifier());
    }

    /// <summary>The hub events go to.</summary>
    public string Hub { get; }

    /// <summary>
    /// The namespace URI for a connection's <c>fullyQualifiedNamespace</c>: <c>https://{value}/</c>, or plain
    /// HTTP with the local runner's <c>/eventhubs/</c> path when the value is a loopback host and port.
    /// </summary>
    public static Uri NamespaceUri(string fullyQualifiedNamespace)
    {
        var host = fullyQualifiedNamespace.Trim().TrimEnd('/');
        var local = host.StartsWith("127.0.0.1", StringComparison.Ordinal) || host.StartsWith("localhost", StringComparison.OrdinalIgnoreCase);
        return local ? new Uri($"http://{host}/eventhubs/") : new Uri($"https://{host}/");
    }

    /// <summary>
    /// Sends <paramref name="events"/> in order, in as few requests as the size limit allows. Each request
    /// is sent once through the pipeline (whose retry policy is the only one), so the events of a request
    /// the hub took are never sent again. A request the hub refuses as bad (400, 413) is narrowed to the
    /// events at fault by sending them one by one; once the hub fails or cannot be reached, the rest of the
    /// events are not tried and count as failed.
    /// </summary>
    public async Task<SendResult> SendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken = default)
    {
        var body = new ArrayBufferWriter<byte>(16 * 1024);
        var item = new ArrayBufferWriter<byte>(2 * 1024);
        var pending = new List<int>();
        var result = new SendResult(0, 0, 0, null);
        for (var index = 0; index < events.Count; index++)
        {
            var e = events[index];
            item.ResetWrittenCount();
            using (var w = new Utf8JsonWriter(item))
            {
                w.WriteStartObject();
                w.WriteString("Body", e.Body);
                if (e.PartitionKey is not null)
                {
                    w.WriteStartObject("BrokerProperties");
                    w.WriteString("PartitionKey", e.PartitionKey);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            if (item.WrittenCount + 2 > maxRequestBytes)
            {
                result = Add(result, new SendResult(0, 1, 0, new RequestFailedException(413, $"An event of {item.WrittenCount} bytes exceeds the {maxRequestBytes}-byte request limit of hub '{Hub}'.")));
                continue;
            }

            if (pending.Count > 0 && body.WrittenCount + item.WrittenCount + 2 > maxRequestBytes)
            {
                result = Add(result, await PostPartAsync(body, pending, events, cancellationToken).ConfigureAwait(false));
                if (result.Failed > 0)
                {
                    return result with { Failed = result.Failed + events.Count - index };
                }

                body.ResetWrittenCount();
                pending.Clear();
            }

            body.Write(pending.Count == 0 ? "["u8 : ","u8);
            body.Write(item.WrittenSpan);
            pending.Add(index);
        }

        if (pending.Count > 0)
        {
            result = Add(result, await PostPartAsync(body, pending, events, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    private static SendResult Add(SendResult a, SendResult b) => new(a.Sent + b.Sent, a.Refused + b.Refused, a.Failed + b.Failed, a.Error ?? b.Error);

    /// <summary>One request; refused as bad, its events are sent one by one to find those at fault.</summary>
    private async Task<SendResult> PostPartAsync(ArrayBufferWriter<byte> body, List<int> indexes, IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            await PostAsync(body, cancellationToken).ConfigureAwait(false);
            return new SendResult(indexes.Count, 0, 0, null);
        }
        catch (RequestFailedException e) when (e.Status is 400 or 413)
        {
            if (indexes.Count == 1)
            {
                return new SendResult(0, 1, 0, e);
            }

            var result = new SendResult(0, 0, 0, e);
            foreach (var index in indexes)
            {
                result = Add(result, await SendAsync([events[index]], cancellationToken).ConfigureAwait(false));
                if (result.Failed > 0)
                {
                    return result with { Failed = result.Failed + indexes.Count - 1 - indexes.IndexOf(index) };
                }
            }

            return result;
        }
        catch (Exception e) when (e is RequestFailedException or IOException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new SendResult(0, 0, indexes.Count, e);
        }
    }

    private async Task PostAsync(ArrayBufferWriter<byte> body, CancellationToken cancellationToken)
    {
        body.Write("]"u8);
        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Post;
        message.Request.Uri.Reset(messagesUri);
        message.Request.Headers.SetValue("Content-Type", BatchContentType);
        message.Request.Content = RequestContent.Create(body.WrittenMemory.ToArray());
        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (message.Response.Status != 201)
        {
            throw new RequestFailedException(message.Response.Status, $"Event hub '{Hub}' refused a batch: {message.Response.Status} {Encoding.UTF8.GetString(message.Response.Content.ToMemory().Span)}");
        }
    }
}
