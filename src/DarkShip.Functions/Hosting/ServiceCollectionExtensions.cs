using System.Text.Json.Serialization;
using DarkShip.EventHubs;
using DarkShip.Serving.Batching;
using DarkShip.Serving.Features;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Models;
using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Shadow;
using DarkShip.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace DarkShip.Functions.Hosting;

internal static class ServiceCollectionExtensions
{
    /// <summary>The Event Hubs connection the mirror is sent on (<c>MirrorHub__fullyQualifiedNamespace</c>, <c>__credential</c>, <c>__clientId</c>).</summary>
    public const string MirrorConnection = "MirrorHub";

    /// <summary>Everything the handler needs: the clock, problem details, the domain services and the adapters behind their ports.</summary>
    public static IServiceCollection AddDarkShip(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<StartupChecks>(); // first: a misconfigured instance stops here, naming the setting
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            o.SerializerOptions.AllowDuplicateProperties = false; // a member written twice is a 400, not "the last one wins"
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, HandlerJsonContext.Default);
        });

        services.AddOptions<ServingOptions>()
            .BindConfiguration(ServingOptions.Section)
            .Validate(o => o.FeatureBudgetMilliseconds is > 0 and <= 10_000, "Serving:FeatureBudgetMilliseconds must be 1 to 10000.")
            .Validate(o => o.ModelRefreshSeconds > 0 && o.ModelFullReloadSeconds > 0 && o.ModelLoadWaitSeconds >= 0 && o.FeatureCacheEntries > 0, "Serving: refresh interval, load wait and cache size must be positive.")
            .Validate(o => !string.IsNullOrEmpty(o.AssignmentSalt), "Serving:AssignmentSalt must not be empty.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ServingOptions>>().Value);
        services.AddOptions<ShadowOptions>()
            .BindConfiguration(ShadowOptions.Section)
            .Validate(o => o.ModelBudgetMilliseconds > 0 && o.FeatureBudgetMilliseconds > 0, "Shadow: the model and feature budgets must be positive.")
            .Validate(o => o.WindowSeconds is >= 1 and <= 86_400, "Shadow:WindowSeconds must be 1 to 86400.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ShadowOptions>>().Value);

        AddStores(services, configuration);
        AddQueues(services, configuration);

        services.TryAddSingleton<ModelCache>();
        services.TryAddSingleton<IModelLineups>(sp => sp.GetRequiredService<ModelCache>());
        services.TryAddSingleton<ModelScorer>();
        services.TryAddSingleton<FeatureReader>();
        services.TryAddSingleton<PredictionService>();
        services.AddHostedService<ModelCacheRefresher>();

        services.TryAddSingleton<ShadowScorer>();
        services.TryAddSingleton<ModelLadder>();
        services.AddOptions<DriftOptions>()
            .BindConfiguration(DriftOptions.Section)
            .Validate(o => o.WindowMinutes is >= 5 and <= 10_080 && o.MinSamples >= 1 && o.LargeSample >= o.MinSamples, "Drift: WindowMinutes must be 5 to 10080, MinSamples at least 1 and LargeSample at least MinSamples.")
            .Validate(o => o.PsiWarn <= o.PsiAlert && o.JensenShannonWarn <= o.JensenShannonAlert && o.WassersteinWarn <= o.WassersteinAlert && o.RateWarn <= o.RateAlert && o.PValueAlert <= o.PValueWarn, "Drift: each warning threshold must be milder than its alert threshold.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<DriftOptions>>().Value);
        services.TryAddSingleton<DriftMonitor>();
        services.TryAddSingleton<OutcomeService>();
        services.TryAddSingleton<IExperimentAnalysis, OutcomeExperimentAnalysis>();
        services.TryAddSingleton<IGuardrailSignals>(sp => sp.GetRequiredService<DriftMonitor>());
        services.TryAddSingleton<ModelPromoter>();
        return services;
    }

    /// <summary>
    /// The Table and Blob adapters of the configured storage account. Without one the handler does not
    /// start (see <see cref="StartupChecks"/>): there is no in-memory fallback that would answer 404 to
    /// every prediction and drop every outcome.
    /// </summary>
    private static void AddStores(IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(sp =>
        {
            var account = StorageAccount.From(configuration, sp.GetRequiredService<ILoggerFactory>());
            return new Stores(account.FeatureStore(), account.Registry(), account.Artifacts(), account.PredictionLog(), account.EventLog(), account.Aggregates(), account.DeadLetters(),
                account.PredictionLog(), account.Outcomes(), account.Drift());
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().Features);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().Registry);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().Artifacts);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().PredictionLog);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().Events);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().Aggregates);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().DeadLetters);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().PredictionLogReader);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().Outcomes);
        services.TryAddSingleton(sp => sp.GetRequiredService<Stores>().Drift);
    }

    /// <summary>The mirror and the model log leave the request path through bounded queues, flushed at shutdown.</summary>
    private static void AddQueues(IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<IBatchSink<MirrorEvent>>(sp =>
        {
            var ns = configuration.Setting(MirrorConnection + "__fullyQualifiedNamespace")
                ?? throw new MissingSettingException(MirrorConnection + "__fullyQualifiedNamespace", "the Event Hubs namespace the mirror is sent to (e.g. myspace.servicebus.windows.net; the local runner sets 127.0.0.1:7071)");

            var uri = EventHubProducerClient.NamespaceUri(ns);
            var credential = uri.IsLoopback ? null : StorageCredentials.ForIdentity(
                configuration.Setting(MirrorConnection + "__credential"), configuration.Setting(MirrorConnection + "__clientId"));
            var hub = configuration.Setting("MirrorHubName") ?? "mirror";
            return new EventHubsMirrorSink(new EventHubProducerClient(uri, hub, credential));
        });

        services.TryAddSingleton(sp => new BatchingQueue<MirrorEvent>(
            "mirror",
            sp.GetRequiredService<IBatchSink<MirrorEvent>>(),
            Bind(configuration, "Mirror", new BatchingOptions { MaxBatchSize = 500 }),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("DarkShip.Mirror")));
        services.TryAddSingleton(sp => new BatchingQueue<PredictionLogEntry>(
            "prediction-log",
            sp.GetRequiredService<IBatchSink<PredictionLogEntry>>(),
            Bind(configuration, "PredictionLog", new BatchingOptions()),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("DarkShip.PredictionLog")));
        services.TryAddSingleton<IMirrorPublisher, QueuedMirrorPublisher>();
        services.TryAddSingleton<IPredictionLog, QueuedPredictionLog>();
        services.AddHostedService<QueueFlusher>();
    }

    private static BatchingOptions Bind(IConfiguration configuration, string section, BatchingOptions defaults)
    {
        var s = configuration.GetSection(section);
        defaults.Capacity = s.GetValue(nameof(BatchingOptions.Capacity), defaults.Capacity);
        defaults.MaxBatchSize = s.GetValue(nameof(BatchingOptions.MaxBatchSize), defaults.MaxBatchSize);
        return defaults;
    }
}

/// <summary>The adapters behind the domain's ports, chosen together.</summary>
internal sealed record Stores(
    IFeatureStore Features,
    IModelRegistry Registry,
    IModelArtifactStore Artifacts,
    IBatchSink<PredictionLogEntry> PredictionLog,
    IModelEventLog Events,
    IAggregateStore Aggregates,
    IDeadLetters DeadLetters,
    IPredictionLogReader PredictionLogReader,
    IOutcomeStore Outcomes,
    IDriftStore Drift)
;

/// <summary>
/// Resolves the adapters before anything else is even constructed (it is the first hosted service), so
/// a missing storage or mirror setting stops the start naming every such setting at once, instead of
/// surfacing on the first request or in whichever service happened to be built first.
/// </summary>
internal sealed class StartupChecks : IHostedService
{
    public StartupChecks(IServiceProvider services)
    {
        var missing = new List<MissingSettingException.Missing>();
        void Check<T>()
            where T : notnull
        {
            try
            {
                _ = services.GetRequiredService<T>();
            }
            catch (MissingSettingException e)
            {
                missing.AddRange(e.Each);
            }
        }

        Check<Stores>();
        Check<IBatchSink<MirrorEvent>>();
        if (missing.Count > 0)
        {
            throw new MissingSettingException(missing);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Polls the registry and reloads the model cache when it changed.</summary>
internal sealed partial class ModelCacheRefresher(ModelCache cache, ServingOptions options, TimeProvider time, ILogger<ModelCacheRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.ModelRefreshSeconds), time);
        var fullReload = TimeSpan.FromSeconds(options.ModelFullReloadSeconds);
        var lastFull = time.GetTimestamp();
        do
        {
            try
            {
                var full = time.GetElapsedTime(lastFull) >= fullReload;
                await (full ? cache.ReloadAsync(stoppingToken) : cache.RefreshAsync(stoppingToken));
                if (full)
                {
                    lastFull = time.GetTimestamp();
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRefreshFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reading the model registry failed; the models loaded before keep serving")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

/// <summary>Starts the mirror and model-log senders, and flushes them when the app stops.</summary>
internal sealed class QueueFlusher(BatchingQueue<MirrorEvent> mirror, BatchingQueue<PredictionLogEntry> log) : IHostedService
{
    /// <summary>How long shutdown waits for the buffers to drain.</summary>
    public static readonly TimeSpan FlushDeadline = TimeSpan.FromSeconds(10);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        mirror.Start();
        log.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(mirror.StopAsync(FlushDeadline), log.StopAsync(FlushDeadline));
}
