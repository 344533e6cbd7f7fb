using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// The optional OTLP export, part of <see cref="TelemetryExport"/>'s pipeline: when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, DarkShip's metrics, spans and logs also go to that
/// collector, over <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> (<c>http/protobuf</c> by default, or <c>grpc</c>;
/// OpenTelemetry's own variables such as <c>OTEL_EXPORTER_OTLP_HEADERS</c> apply).
/// </summary>
internal sealed class OtlpExport(Uri endpoint, OtlpExportProtocol protocol)
{
    /// <summary>The setting that switches the export on.</summary>
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The setting choosing <c>http/protobuf</c> (the default here, as the OTLP specification's) or <c>grpc</c>.</summary>
    public const string ProtocolSetting = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>The export the settings ask for, or <see langword="null"/> when no endpoint is set.</summary>
    public static OtlpExport? TryRead(IConfiguration settings)
    {
        if (settings.Setting(EndpointSetting) is not { } setting)
        {
            return null;
        }

        if (!Uri.TryCreate(setting.EndsWith('/') ? setting : setting + "/", UriKind.Absolute, out var endpoint))
        {
            throw new InvalidSettingException(EndpointSetting, setting, "it must be an absolute URL (e.g. http://collector:4318)");
        }

        var protocol = settings.Setting(ProtocolSetting) switch
        {
            null or "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            "grpc" => OtlpExportProtocol.Grpc,
            var other => throw new InvalidSettingException(ProtocolSetting, other, "it must be http/protobuf or grpc"),
        };
        return new OtlpExport(endpoint, protocol);
    }

    public void AddTo(MeterProviderBuilder metrics) => metrics.AddOtlpExporter(o => Configure(o, "metrics"));

    public void AddTo(TracerProviderBuilder tracing) => tracing.AddOtlpExporter(o => Configure(o, "traces"));

    public void AddTo(LoggerProviderBuilder logging) => logging.AddOtlpExporter(o => Configure(o, "logs"));

    // Over HTTP each signal has its own path under the endpoint (v1/traces, v1/metrics, v1/logs).
    private void Configure(OtlpExporterOptions options, string signal)
    {
        options.Protocol = protocol;
        options.Endpoint = protocol == OtlpExportProtocol.Grpc ? endpoint : new Uri(endpoint, "v1/" + signal);
    }
}
