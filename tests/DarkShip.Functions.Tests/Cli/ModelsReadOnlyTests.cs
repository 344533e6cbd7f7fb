using System.CommandLine;
using System.Text;
using DarkShip.Functions.Cli;

namespace DarkShip.Functions.Tests.Cli;

/// <summary>
/// The read-only <c>models</c> verbs create no table and no container: they run against a storage
/// stand-in on loopback that answers every request 404 (an account with nothing in it) and records
/// what was asked.
/// </summary>
public sealed class ModelsReadOnlyTests : IAsyncDisposable
{
    private static readonly byte[] NotFound = Encoding.UTF8.GetBytes("""{"odata.error":{"code":"ResourceNotFound","message":{"lang":"en-US","value":"The specified resource does not exist."}}}""");

    private readonly LoopbackHttpServer storage = new(_ => (404, "application/json", NotFound));
    private readonly FileInfo settings = new(Path.GetTempFileName());

    public ModelsReadOnlyTests()
    {
        var key = Convert.ToBase64String(new byte[64]);
        File.WriteAllText(settings.FullName, $$"""
            { "Values": { "AzureWebJobsStorage": "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={{key}};TableEndpoint={{storage.Url}}/acct;BlobEndpoint={{storage.Url}}/acct" } }
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

        Assert.NotEmpty(storage.Requests);
        Assert.All(storage.Requests, r => Assert.Equal("GET", r.Method));
    }

    [Fact]
    public async Task AVerbThatWrites_CreatesWhatItNeedsFirst()
    {
        await RunAsync("rules", "fraud", "--set", "minSamples=5");

        Assert.Contains(storage.Requests, r => r is { Method: "POST", Path: "/acct/Tables" });
    }

    public async ValueTask DisposeAsync()
    {
        await storage.DisposeAsync();
        settings.Delete();
    }

    private async Task RunAsync(params string[] args)
    {
        var root = new RootCommand { ModelsCommand.Create() };
        await root.Parse(["models", .. args, "--settings", settings.FullName]).InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null });
    }
}
