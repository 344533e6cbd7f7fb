using System.Text.Json.Serialization;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DarkShip.Functions.Hosting;

internal static class ServiceCollectionExtensions
{
    /// <summary>Everything the handler needs: the clock, problem details, the domain services and their ports.</summary>
    public static IServiceCollection AddDarkShip(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, HandlerJsonContext.Default);
        });

        // Until the Models table adapter is wired in, the registry lives in memory and starts empty.
        services.TryAddSingleton<InMemoryModelRegistry>();
        services.TryAddSingleton<IModelRegistry>(sp => sp.GetRequiredService<InMemoryModelRegistry>());
        services.TryAddSingleton<PredictionService>();
        return services;
    }
}
