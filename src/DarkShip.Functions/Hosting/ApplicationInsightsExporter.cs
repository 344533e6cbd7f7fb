using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DarkShip.Serving.Telemetry;
using Microsoft.ApplicationInsights;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// Sends the handler's own telemetry to Application Insights (Microsoft.ApplicationInsights 2.x), when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set: every <see cref="DarkShipTelemetry"/> instrument
/// as a custom metric pre-aggregated per minute and per tag set (count, sum, min, max; the tags become
/// customDimensions), every <c>DarkShip</c> span as an in-process dependency, and the logs (DarkShip's
/// at Information and above, everything else at Warning and above) as traces with their structured
/// values, event id and name as customDimensions. <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>
/// <c>ClientId=…;Authorization=AAD</c> sends with an Entra token of that managed identity, as the
/// component's disabled local auth requires. The Functions host reports invocations and HTTP requests
/// itself.
/// </summary>
internal sealed partial class ApplicationInsightsExporter : IHostedService, ILoggerProvider
{
    /// <summary>App setting with the component's connection string.</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>App setting naming Entra authentication.</summary>
    public const string AuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>How often metric aggregates are sent.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMinutes(1);

    private readonly TelemetryConfiguration configuration;
    private readonly TelemetryClient client;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<string, MetricAggregate> metrics = new(StringComparer.Ordinal);
    private readonly MeterListener meterListener = new();
    private readonly ActivityListener activityListener;
    private ITimer? flusher;
    private int disposed;

    public ApplicationInsightsExporter(string connectionString, string? authentication, TimeProvider time)
    {
        this.time = time;
        configuration = new TelemetryConfiguration { ConnectionString = connectionString };
        if (ClientIdForEntra(authentication) is { } clientId)
        {
            configuration.SetAzureTokenCredential(Storage.StorageCredentials.ForIdentity("managedidentity", clientId.Length > 0 ? clientId : null));
        }

        client = new TelemetryClient(configuration);
        meterListener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DarkShipTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meterListener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Aggregate(instrument, value, tags));
        meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Aggregate(instrument, value, tags));
        activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == DarkShipTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Track,
        };
    }

    /// <summary>The exporter the settings ask for, or <see langword="null"/> when no connection string is set.</summary>
    public static ApplicationInsightsExporter? TryCreate(IConfiguration settings, TimeProvider time) =>
        settings.Setting(ConnectionStringSetting) is { } connection ? new ApplicationInsightsExporter(connection, settings.Setting(AuthenticationSetting), time) : null;

    /// <summary>The managed identity's client id when the authentication string asks for Entra (<c>""</c> for the system-assigned one), else <see langword="null"/>.</summary>
    public static string? ClientIdForEntra(string? authentication)
    {
        if (authentication is null)
        {
            return null;
        }

        var parts = authentication.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        return parts.TryGetValue("Authorization", out var kind) && kind.Equals("AAD", StringComparison.OrdinalIgnoreCase)
            ? parts.GetValueOrDefault("ClientId") ?? ""
            : null;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        meterListener.Start();
        ActivitySource.AddActivityListener(activityListener);
        flusher = time.CreateTimer(_ => Flush(), null, FlushInterval, FlushInterval);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (flusher is not null)
        {
            await flusher.DisposeAsync();
        }

        Flush();
        await client.FlushAsync(cancellationToken);
    }

    /// <summary>Sends every aggregate that saw values since the last flush, and starts them afresh.</summary>
    public void Flush()
    {
        foreach (var (_, aggregate) in metrics)
        {
            if (aggregate.TakeAndReset() is { } metric)
            {
                client.TrackMetric(metric);
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new TraceLogger(client, categoryName);

    /// <summary>Disposed by both the logger factory (as a provider) and the container (as a hosted service): once is enough.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        meterListener.Dispose();
        activityListener.Dispose();
        configuration.Dispose();
    }

    private void Aggregate(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = new System.Text.StringBuilder(instrument.Name);
        foreach (var tag in tags)
        {
            key.Append('|').Append(tag.Key).Append('=').Append(tag.Value);
        }

        var text = key.ToString();
        if (!metrics.TryGetValue(text, out var aggregate))
        {
            var dimensions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                dimensions[tag.Key] = Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            }

            aggregate = metrics.GetOrAdd(text, _ => new MetricAggregate(instrument.Name, dimensions));
        }

        aggregate.Add(value);
    }

    private void Track(Activity activity)
    {
        var dependency = new DependencyTelemetry
        {
            Type = "InProc",
            Name = activity.DisplayName,
            Target = DarkShipTelemetry.Name,
            Timestamp = activity.StartTimeUtc,
            Duration = activity.Duration,
            Success = activity.Status != ActivityStatusCode.Error,
        };
        foreach (var (name, value) in activity.TagObjects)
        {
            dependency.Properties[name] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        client.TrackDependency(dependency);
    }

    /// <summary>One instrument and tag set's values since the last flush.</summary>
    private sealed class MetricAggregate(string name, Dictionary<string, string> dimensions)
    {
        private readonly Lock gate = new();
        private long count;
        private double sum, min = double.PositiveInfinity, max = double.NegativeInfinity;

        public void Add(double value)
        {
            lock (gate)
            {
                count++;
                sum += value;
                min = Math.Min(min, value);
                max = Math.Max(max, value);
            }
        }

        public MetricTelemetry? TakeAndReset()
        {
            lock (gate)
            {
                if (count == 0)
                {
                    return null;
                }

                var metric = new MetricTelemetry(name, (int)Math.Min(count, int.MaxValue), sum, min, max, 0);
                foreach (var (k, v) in dimensions)
                {
                    metric.Properties[k] = v;
                }

                (count, sum, min, max) = (0, 0, double.PositiveInfinity, double.NegativeInfinity);
                return metric;
            }
        }
    }

    /// <summary>Logs as Application Insights traces (exceptions as exception telemetry).</summary>
    private sealed class TraceLogger(TelemetryClient client, string category) : ILogger
    {
        private readonly bool ours = category.StartsWith("DarkShip", StringComparison.Ordinal);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= (ours ? LogLevel.Information : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["Category"] = category, ["EventId"] = eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (eventId.Name is { } eventName)
            {
                properties["EventName"] = eventName;
            }

            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (name, value) in values)
                {
                    if (name != "{OriginalFormat}")
                    {
                        properties[name] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                    }
                }
            }

            var message = formatter(state, exception);
            if (exception is not null)
            {
                var telemetry = new ExceptionTelemetry(exception) { Message = message, SeverityLevel = Severity(logLevel) };
                foreach (var (k, v) in properties)
                {
                    telemetry.Properties[k] = v;
                }

                client.TrackException(telemetry);
                return;
            }

            client.TrackTrace(message, Severity(logLevel), properties);
        }

        private static SeverityLevel Severity(LogLevel level) => level switch
        {
            LogLevel.Critical => SeverityLevel.Critical,
            LogLevel.Error => SeverityLevel.Error,
            LogLevel.Warning => SeverityLevel.Warning,
            LogLevel.Information => SeverityLevel.Information,
            _ => SeverityLevel.Verbose,
        };
    }
}
