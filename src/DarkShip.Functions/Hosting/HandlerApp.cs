using DarkShip.Functions.Apis;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// The custom handler: the ASP.NET Core app the Functions host launches and talks to on
/// 127.0.0.1:<c>FUNCTIONS_CUSTOMHANDLER_PORT</c>.
/// </summary>
internal static class HandlerApp
{
    /// <summary>The variable through which the host tells the handler where to listen.</summary>
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";

    /// <summary>The host's lifetime log category ("Now listening on", "Application started", …): warnings only unless <see cref="LifetimeLogLevelSetting"/> says otherwise.</summary>
    public const string LifetimeCategory = "Microsoft.Hosting.Lifetime";

    /// <summary>The setting that brings the lifetime lines back (<c>Logging__LogLevel__Microsoft.Hosting.Lifetime=Information</c>).</summary>
    public const string LifetimeLogLevelSetting = "Logging:LogLevel:" + LifetimeCategory;

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Only what the handler uses, because the host waits for readiness on every cold start:
        // app settings arrive as environment variables (plus args), Kestrel without HTTPS, routing,
        // console logs the host collects. No appsettings files, so no file watcher; the content
        // root is the package folder beside host.json.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables().AddCommandLine(args);
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole();
        if (builder.Configuration[PortVariable] is { Length: > 0 } port)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = HandlerLimits.MaxRequestBodyBytes);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The host logs the worker's start itself; the four lifetime lines ("Now listening on", …) cost a cold
        // start ~6 ms of console formatting (docs/performance.md). Logging__LogLevel__Microsoft.Hosting.Lifetime brings them back.
        if (builder.Configuration[LifetimeLogLevelSetting] is null)
        {
            builder.Logging.AddFilter(LifetimeCategory, LogLevel.Warning);
        }
        builder.Services.AddHostedService<AzureSdkLogs>();
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true); // bad bodies reach ProblemExceptionHandler
        builder.Services.AddDarkShip(builder.Configuration);
        builder.AddTelemetryExportIfConfigured();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestBodyLimit(HandlerLimits.MaxRequestBodyBytes);
        app.MapReadiness();
        app.MapPredictApi();
        app.MapOutcomesApi();
        app.MapShadowScoreFunction();
        app.MapTimerFunctions();
        return app;
    }
}

/// <summary>Limits the handler enforces on what callers send.</summary>
/// <remarks>
/// Kestrel enforces the body limit while reading (chunked bodies included); the middleware refuses a
/// declared oversized body up front, on any server, before anything reads it.
/// </remarks>
internal static class HandlerLimits
{
    /// <summary>Largest request body accepted (1 MiB): a batch of 100 rows fits many times over.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;
}

internal static class RequestBodyLimitExtensions
{
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app, long maxBytes) =>
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentLength > maxBytes)
            {
                await TypedResults.Problem(
                    statusCode: StatusCodes.Status413PayloadTooLarge,
                    title: "Request body too large",
                    detail: $"The body may hold at most {maxBytes} bytes.").ExecuteAsync(context);
                return;
            }

            await next(context);
        });
}
