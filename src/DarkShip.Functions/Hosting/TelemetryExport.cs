using System.Globalization;
using Azure.Monitor.OpenTelemetry.Exporter;
using DarkShip.Serving.Telemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// The handler's own telemetry — the <c>DarkShip</c> meter, its spans and its logs — through one
/// OpenTelemetry pipeline (one MeterProvider, one TracerProvider, one logging provider) to the
/// exporters the settings ask for: Application Insights (<see cref="AzureMonitorExport"/>) and/or an
/// OTLP collector (<see cref="OtlpExport"/>). With neither set nothing is registered and nothing
/// loads, so the cold start pays nothing for it. The Functions host reports invocations and HTTP
/// requests itself; this adds what only DarkShip knows.
/// </summary>
internal static class TelemetryExport
{
    /// <summary>Share of traces kept, 0–1 (default 1: DarkShip's spans are few — one per call, batch or timer run).</summary>
    public const string SamplingRatioSetting = "Telemetry__SamplingRatio";

    /// <summary>The service name (cloud_RoleName in Application Insights); default the function app's name, as the host reports it.</summary>
    public const string ServiceNameSetting = "OTEL_SERVICE_NAME";

    /// <summary>Log categories below which only warnings and errors are exported: DarkShip's own are exported from Information.</summary>
    public const string OwnCategory = "DarkShip";

    public static void AddTelemetryExportIfConfigured(this WebApplicationBuilder builder)
    {
        var settings = builder.Configuration;
        var azureMonitor = AzureMonitorExport.TryRead(settings);
        var otlp = OtlpExport.TryRead(settings);
        if (azureMonitor is null && otlp is null)
        {
            return;
        }

        var ratio = SamplingRatio(settings);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName: settings.Setting(ServiceNameSetting) ?? settings.Setting("WEBSITE_SITE_NAME") ?? "DarkShip.Functions",
                serviceInstanceId: settings.Setting("WEBSITE_INSTANCE_ID") ?? Environment.MachineName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(DarkShipTelemetry.Name);
                azureMonitor?.AddTo(metrics, ratio);
                otlp?.AddTo(metrics);
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(DarkShipTelemetry.Name);
                otlp?.AddTo(tracing);
                // Not parent-based: the handler's spans have no sampled parent in this process, so a
                // parent-based sampler would keep none of them. The Azure Monitor exporter installs its
                // own ratio sampler (which tells Application Insights the rate, for itemCount).
                tracing.SetSampler(ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio));
                azureMonitor?.AddTo(tracing, ratio);
            })
            .WithLogging(
                logging =>
                {
                    azureMonitor?.AddTo(logging, ratio);
                    otlp?.AddTo(logging);
                },
                options =>
                {
                    options.IncludeFormattedMessage = true;
                    options.ParseStateValues = true; // the message's named values become customDimensions
                });

        // Framework and library Information logs stay on the console the host collects; only DarkShip's
        // Information, and everyone's warnings and errors, are shipped.
        builder.Logging.AddFilter<OpenTelemetryLoggerProvider>(null, LogLevel.Warning);
        builder.Logging.AddFilter<OpenTelemetryLoggerProvider>(OwnCategory, LogLevel.Information);
    }

    /// <summary>The sampling ratio setting, or 1; anything but a number from 0 to 1 stops the start with the setting's name.</summary>
    public static double SamplingRatio(IConfiguration settings)
    {
        if (settings.Setting(SamplingRatioSetting) is not { } text)
        {
            return 1;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1
            ? ratio
            : throw new InvalidSettingException(SamplingRatioSetting, text, "it must be a number from 0 to 1 (the share of traces kept; 1 keeps all)");
    }
}

/// <summary>
/// Application Insights through <c>Azure.Monitor.OpenTelemetry.Exporter</c>, when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set. Metrics arrive in <c>customMetrics</c> (name =
/// instrument name, tags = customDimensions), spans in <c>dependencies</c> (type InProc), logs in
/// <c>traces</c> and, with an exception, <c>exceptions</c> (named values, <c>EventId</c> and
/// <c>EventName</c> as customDimensions). <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c>
/// <c>ClientId=…;Authorization=AAD</c> sends with an Entra token of that managed identity, as the
/// component's disabled local auth requires. What the exporter's defaults get wrong for us is set here:
/// rate-limited sampling (5 traces/s) and trace-based log sampling would drop error logs, so a ratio
/// from <see cref="TelemetryExport.SamplingRatioSetting"/> (default 1) and every log; live metrics are
/// off unless <see cref="LiveMetricsSetting"/> is true; performance counters are off (the host sends the
/// instance's). The exporter's own usage telemetry (Statsbeat) is switched off with the environment
/// variable <c>APPLICATIONINSIGHTS_STATSBEAT_DISABLED=true</c> (docs/deploy.md).
/// </summary>
internal sealed class AzureMonitorExport(string connectionString, Azure.Core.TokenCredential? credential, bool liveMetrics)
{
    /// <summary>App setting with the component's connection string.</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>App setting naming Entra authentication.</summary>
    public const string AuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>App setting switching Live Metrics on (default off).</summary>
    public const string LiveMetricsSetting = "Telemetry__LiveMetrics";

    /// <summary>The export the settings ask for, or <see langword="null"/> when no connection string is set.</summary>
    public static AzureMonitorExport? TryRead(IConfiguration settings)
    {
        if (settings.Setting(ConnectionStringSetting) is not { } connection)
        {
            return null;
        }

        var credential = ClientIdForEntra(settings.Setting(AuthenticationSetting)) is { } clientId
            ? Storage.StorageCredentials.ForIdentity("managedidentity", clientId.Length > 0 ? clientId : null)
            : null;
        var live = settings.Setting(LiveMetricsSetting) switch
        {
            null => false,
            var text when bool.TryParse(text, out var on) => on,
            var text => throw new InvalidSettingException(LiveMetricsSetting, text, "it must be true or false"),
        };
        return new AzureMonitorExport(connection, credential, live);
    }

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

    public void AddTo(MeterProviderBuilder metrics, double ratio) => metrics.AddAzureMonitorMetricExporter(o => Configure(o, ratio));

    public void AddTo(TracerProviderBuilder tracing, double ratio) => tracing.AddAzureMonitorTraceExporter(o => Configure(o, ratio));

    public void AddTo(LoggerProviderBuilder logging, double ratio) => logging.AddAzureMonitorLogExporter(o => Configure(o, ratio));

    private void Configure(AzureMonitorExporterOptions options, double ratio)
    {
        options.ConnectionString = connectionString;
        options.Credential = credential;
        options.TracesPerSecond = null; // rate-limited sampling off: the ratio below decides
        options.SamplingRatio = (float)ratio;
        options.EnableTraceBasedLogsSampler = false; // every log is exported, sampled trace or not
        options.EnableLiveMetrics = liveMetrics;
        options.EnablePerformanceCounters = false;
    }
}
