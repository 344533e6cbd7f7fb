using DarkShip.Functions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DarkShip.Functions.Tests.Hosting;

/// <summary>What the handler logs to the console the host collects, by category.</summary>
[Collection(DarkShip.Functions.Tests.Deploy.TelemetryProvidersCollection.Name)]
public sealed class HandlerLoggingTests
{
    [Fact]
    public async Task The_lifetime_lines_are_left_out_but_its_warnings_kept()
    {
        await using var app = HandlerApp.Build([]);
        var lifetime = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(HandlerApp.LifetimeCategory);

        Assert.False(lifetime.IsEnabled(LogLevel.Information));
        Assert.True(lifetime.IsEnabled(LogLevel.Warning));
        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DarkShip.Mirror").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task The_lifetime_lines_come_back_with_their_log_level_setting()
    {
        await using var app = HandlerApp.Build(["--" + HandlerApp.LifetimeLogLevelSetting + "=Information"]);

        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(HandlerApp.LifetimeCategory).IsEnabled(LogLevel.Information));
    }
}
