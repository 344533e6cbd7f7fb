using DarkShip.Functions.Hosting;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Features;
using DarkShip.Serving.Mirror;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace DarkShip.Functions.Tests;

/// <summary>The handler app over in-memory stores and a mirror that discards (the production app refuses to start without real ones).</summary>
public sealed class InMemoryHandler : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.ConfigureServices(services => services.AddInMemoryStores(new InMemoryFeatureStore(), new InMemoryModelRegistry()).AddDiscardingMirror());
}

internal static class InMemoryStoresExtensions
{
    /// <summary>Registers the in-memory fakes behind every port in place of the storage account.</summary>
    public static IServiceCollection AddInMemoryStores(this IServiceCollection services, IFeatureStore features, InMemoryModelRegistry registry, InMemoryMonitoringStore? monitoring = null)
    {
        monitoring ??= new InMemoryMonitoringStore();
        var outcomes = new InMemoryOutcomeStore();
        return services.AddSingleton(new Stores(features, registry, registry, outcomes, new InMemoryModelEventLog(), monitoring, monitoring, outcomes, outcomes, new InMemoryDriftStore()));
    }

    /// <summary>A mirror that discards, in place of the mirror hub.</summary>
    public static IServiceCollection AddDiscardingMirror(this IServiceCollection services) =>
        services.AddSingleton<IBatchSink<MirrorEvent>>(new DiscardingSink<MirrorEvent>());
}
