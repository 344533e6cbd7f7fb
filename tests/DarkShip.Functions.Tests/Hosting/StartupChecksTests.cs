using DarkShip.Functions.Hosting;
using Microsoft.AspNetCore.Hosting;

namespace DarkShip.Functions.Tests.Hosting;

[Collection(DarkShip.Functions.Tests.Deploy.TelemetryProvidersCollection.Name)]
public sealed class StartupChecksTests
{
    [Fact]
    public async Task Start_WithoutAStorageAccount_RefusesNamingTheSetting()
    {
        await using var app = HandlerApp.Build(["--MirrorHub:fullyQualifiedNamespace=127.0.0.1:1"], b => b.WebHost.UseUrls("http://127.0.0.1:0"));

        var e = await Assert.ThrowsAsync<MissingSettingException>(() => app.StartAsync());

        Assert.Equal("AzureWebJobsStorage", e.Setting);
        Assert.Contains("'AzureWebJobsStorage'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithoutTheMirrorNamespace_RefusesNamingTheSetting()
    {
        await using var app = HandlerApp.Build(["--AzureWebJobsStorage=UseDevelopmentStorage=true"], b => b.WebHost.UseUrls("http://127.0.0.1:0"));

        var e = await Assert.ThrowsAsync<MissingSettingException>(() => app.StartAsync());

        Assert.Equal("MirrorHub__fullyQualifiedNamespace", e.Setting);
    }

    [Fact]
    public async Task Start_WithNeither_NamesBoth()
    {
        await using var app = HandlerApp.Build([], b => b.WebHost.UseUrls("http://127.0.0.1:0"));

        var e = await Assert.ThrowsAsync<MissingSettingException>(() => app.StartAsync());

        Assert.Equal(["AzureWebJobsStorage", "MirrorHub__fullyQualifiedNamespace"], e.Settings);
    }

    [Fact]
    public async Task Serve_Misconfigured_ExitsWith2AndTheSettingOnStandardError()
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            var code = await DarkShip.Functions.Cli.ServeCommand.RunAsync(["--urls=http://127.0.0.1:0"], CancellationToken.None);

            Assert.Equal(2, code);
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Contains("serve: not started: The app setting '", error.ToString(), StringComparison.Ordinal); // (other tests may write to the console meanwhile)
    }

    [Theory]
    [InlineData("Telemetry__SamplingRatio", "2")]
    [InlineData("Telemetry__LiveMetrics", "sometimes")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")]
    public async Task Serve_WithAnUnusableTelemetrySetting_ExitsWith2NamingIt(string setting, string value)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            var code = await DarkShip.Functions.Cli.ServeCommand.RunAsync(
                ["--urls=http://127.0.0.1:0", "--APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/", "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9", $"--{setting}={value}"],
                CancellationToken.None);

            Assert.Equal(2, code);
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Contains($"serve: not started: The app setting '{setting}' is '{value}'", error.ToString(), StringComparison.Ordinal);
    }
}
