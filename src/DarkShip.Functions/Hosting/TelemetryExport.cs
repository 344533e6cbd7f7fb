using System.Globalization;
using DarkShip.Serving.Telemetry;
using OpenTelemetry.Logs;
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
        // Checked before anything of OpenTelemetry is touched: without an exporter's setting not even its
        // assemblies load (PublishedPackageTests reads the handler's mapped files to check).
        var settings = builder.Configuration;
        if (settings.Setting(AzureMonitorExport.ConnectionStringSetting) is null && settings.Setting(OtlpExport.EndpointSetting) is null)
        {
            return;
        }

        AddTelemetryExport(builder);
    }

    /// <summary>Its own method, not inlined: compiling it loads the OpenTelemetry assemblies.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AddTelemetryExport(WebApplicationBuilder builder)
    {
        var settings = builder.Configuration;
        var azureMonitor = AzureMonitorExport.TryRead(settings);
        var otlp = OtlpExport.TryRead(settings);
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
