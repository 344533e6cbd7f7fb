using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using DarkShip.Functions.Cli;

namespace DarkShip.Functions.Tests.Cli;

/// <summary>
/// The read-only <c>models</c> verbs create no table and no container: they run against a storage
/// stand-in on loopback that answers every request 404 (an account with nothing in it) and records
/// what was asked.
/// </summary>
public sealed class ModelsReadOnlyTests : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly List<string> requests = [];
    private readonly FileInfo settings = new(Path.GetTempFileName());
    private readonly Task serving;

    public ModelsReadOnlyTests()
    {
        var port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        serving = ServeAsync();
        var key = Convert.ToBase64String(new byte[64]);
        File.WriteAllText(settings.FullName, $$"""
            { "Values": { "AzureWebJobsStorage": "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={{key}};TableEndpoint=http://127.0.0.1:{{port}}/acct;BlobEndpoint=http://127.0.0.1:{{port}}/acct" } }
            """);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("status", "fraud")]
    [InlineData("history", "fraud")]
    [InlineData("rules", "fraud")]
    public async Task AReadOnlyVerb_CreatesNothing(params string[] verb)
    {
        await RunAsync(verb);

        Assert.NotEmpty(Requests());
        Assert.All(Requests(), r => Assert.StartsWith("GET ", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AVerbThatWrites_CreatesWhatItNeedsFirst()
    {
        await RunAsync("rules", "fraud", "--set", "minSamples=5");

        Assert.Contains(Requests(), r => r.StartsWith("POST /acct/Tables", StringComparison.Ordinal));
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        settings.Delete();
    }

    private string[] Requests()
    {
        lock (requests)
        {
            return [.. requests];
        }
    }

    private async Task RunAsync(params string[] args)
    {
        var root = new RootCommand { ModelsCommand.Create() };
        await root.Parse(["models", .. args, "--settings", settings.FullName]).InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null });
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

            lock (requests)
            {
                requests.Add($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}");
            }

            context.Response.StatusCode = 404;
            context.Response.ContentType = "application/json";
            var body = """{"odata.error":{"code":"ResourceNotFound","message":{"lang":"en-US","value":"The specified resource does not exist."}}}"""u8.ToArray();
            await context.Response.OutputStream.WriteAsync(body);
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
