using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DarkShip.Testing;

/// <summary>A request as <see cref="LoopbackHttpServer"/> received it (a gzip body is decompressed).</summary>
public sealed record ReceivedRequest(string Method, string Path, string Body);

/// <summary>
/// A stand-in for a remote HTTP service on 127.0.0.1 (an ingestion endpoint, a collector, a storage
/// account): records every request and answers each with what <c>answer</c> says. Never leaves loopback.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly List<ReceivedRequest> received = [];
    private readonly Func<ReceivedRequest, (int Status, string? ContentType, byte[] Body)> answer;
    private readonly Task serving;

    /// <summary>Starts listening on a free loopback port.</summary>
    public LoopbackHttpServer(Func<ReceivedRequest, (int Status, string? ContentType, byte[] Body)>? answer = null)
    {
        this.answer = answer ?? (_ => (200, null, []));
        Port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        serving = ServeAsync();
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:{port}</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (received)
            {
                return [.. received];
            }
        }
    }

    /// <summary>Stops listening and waits for the request loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await serving;
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var bytes = body.ToArray();
            var text = context.Request.Headers["Content-Encoding"] == "gzip"
                ? await new StreamReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)).ReadToEndAsync()
                : Encoding.UTF8.GetString(bytes);
            var request = new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, text);
            lock (received)
            {
                received.Add(request);
            }

            var (status, contentType, reply) = answer(request);
            context.Response.StatusCode = status;
            if (contentType is not null)
            {
                context.Response.ContentType = contentType;
            }

            await context.Response.OutputStream.WriteAsync(reply);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
