using System.Diagnostics.CodeAnalysis;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace DarkShip.Testing.Storage;

/// <summary>A transport that records every request and answers from a queue of canned responses.</summary>
public sealed class FakeTransport(params FakeResponse[] responses) : HttpPipelineTransport
{
    private readonly Queue<FakeResponse> responses = new(responses);
    private readonly HttpClientTransport requests = new();

    public List<RecordedRequest> Requests { get; } = [];

    public override Request CreateRequest() => requests.CreateRequest();

    public override void Process(HttpMessage message) => ProcessAsync(message).AsTask().GetAwaiter().GetResult();

    public override ValueTask ProcessAsync(HttpMessage message)
    {
        var request = message.Request;
        string? body = null;
        if (request.Content is { } content)
        {
            using var stream = new MemoryStream();
            content.WriteTo(stream, CancellationToken.None);
            body = Encoding.UTF8.GetString(stream.ToArray());
        }

        Requests.Add(new RecordedRequest(request.Method.Method, request.Uri.ToUri(), request.Headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase), body));
        var next = responses.Count > 0 ? responses.Dequeue() : throw new InvalidOperationException("No canned response left.");
        next.ClientRequestId = request.ClientRequestId;
        message.Response = next;
        return ValueTask.CompletedTask;
    }
}

public sealed record RecordedRequest(string Method, Uri Uri, Dictionary<string, string> Headers, string? Body);

public sealed class FakeResponse(int status, string? body = null, params (string Name, string Value)[] headers) : Response
{
    private readonly Dictionary<string, string> headers = headers.ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);

    public override int Status => status;

    public override string ReasonPhrase => $"Status {status}";

    public override Stream? ContentStream { get; set; } = new MemoryStream(Encoding.UTF8.GetBytes(body ?? string.Empty));

    public override string ClientRequestId { get; set; } = string.Empty;

    public override void Dispose()
    {
    }

    protected override bool ContainsHeader(string name) => headers.ContainsKey(name);

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => headers.Select(h => new HttpHeader(h.Key, h.Value));

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => headers.TryGetValue(name, out value);

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
    {
        var found = headers.TryGetValue(name, out var value);
        values = found ? [value!] : null;
        return found;
    }
}
