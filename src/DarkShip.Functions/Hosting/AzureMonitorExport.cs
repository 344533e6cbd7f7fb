using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DarkShip.Functions.Hosting;

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
