using DarkShip.Serving.Telemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// The optional OTLP export: when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, DarkShip's meter and spans
/// also go to that collector (logs stay with the console and Application Insights), over <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> (<c>http/protobuf</c> by default,
/// or <c>grpc</c>; OpenTelemetry's own variables such as <c>OTEL_EXPORTER_OTLP_HEADERS</c> and <c>OTEL_SERVICE_NAME</c> apply). Without it nothing is registered.
/// </summary>
internal static class OtlpExport
{
    /// <summary>The setting that switches the export on.</summary>
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The setting choosing <c>http/protobuf</c> (the default here, as the OTLP specification's) or <c>grpc</c>.</summary>
    public const string ProtocolSetting = "OTEL_EXPORTER_OTLP_PROTOCOL";

    public static void AddOtlpExportIfConfigured(this WebApplicationBuilder builder)
    {
        if (builder.Configuration.Setting(EndpointSetting) is not { } setting)
        {
            return;
        }

        var endpoint = new Uri(setting.EndsWith('/') ? setting : setting + "/");
        var protocol = builder.Configuration.Setting(ProtocolSetting) is "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;

        // Over HTTP each signal has its own path under the endpoint (v1/traces, v1/metrics).
        void Configure(OtlpExporterOptions options, string signal)
        {
            options.Protocol = protocol;
            options.Endpoint = protocol == OtlpExportProtocol.Grpc ? endpoint : new Uri(endpoint, "v1/" + signal);
        }

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(DarkShipTelemetry.Name).AddOtlpExporter(o => Configure(o, "metrics")))
            // Always on: DarkShip's spans are few (one per prediction call, batch or timer run), and a
            // parent-based sampler would drop them all under the host's unsampled request spans.
            .WithTracing(tracing => tracing.AddSource(DarkShipTelemetry.Name).SetSampler(new AlwaysOnSampler()).AddOtlpExporter(o => Configure(o, "traces")));
    }
}
