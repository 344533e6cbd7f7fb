using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Definitions;
using Azure.Storage.Blobs;
using DarkShip.Functions.Hosting;

namespace DarkShip.Functions.Local;

/// <summary>Options of a local run.</summary>
/// <param name="Port">Where the front door listens on 127.0.0.1 (0 picks a free port).</param>
/// <param name="Partitions">Partitions of the in-memory mirror hub.</param>
/// <param name="MaxEventBatchSize">Most events per ShadowScore invocation.</param>
/// <param name="DemoTraffic">Demo callers to send, when any (<see cref="LocalDemoTraffic"/>).</param>
internal sealed record LocalRunnerOptions(int Port = 7071, int Partitions = 4, int MaxEventBatchSize = 100, LocalDemoTrafficOptions? DemoTraffic = null);

/// <summary>
/// The Functions host's part in a local run, on 127.0.0.1:<see cref="LocalRunnerOptions.Port"/>:
/// proxies HTTP functions to the handler, receives events for the mirror hub on the Event Hubs
/// REST path, and runs the hub's consumer and the timers against the handler.
/// </summary>
internal static partial class LocalFrontDoor
{
    public static WebApplication Build(LocalRunnerOptions options, Uri handler, LocalSettings settings, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails(); // the front door's own answers (413, 502, bad batches) are problem+json too
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = handler, Timeout = TimeSpan.FromMinutes(5) });
        builder.Services.AddSingleton<FunctionInvoker>();
        if (LocalCaptureFor(settings) is { } capture)
        {
            builder.Services.AddSingleton(sp => new LocalCapture(capture.Container, capture.Path, capture.Options, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LocalCapture>>()));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalCapture>()); // stopped after the triggers: their last events are captured too
        }

        builder.Services.AddSingleton<LocalTriggers>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalTriggers>());
        if (options.DemoTraffic is { Rate: > 0 } demo)
        {
            builder.Services.AddSingleton(demo);
            builder.Services.AddSingleton<LocalDemoTraffic>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalDemoTraffic>());
        }
        configure?.Invoke(builder.Services);

        var app = builder.Build();
        foreach (var function in FunctionCatalog.All)
        {
            if (function.Trigger is HttpTrigger http)
            {
                app.MapMethods("/api/" + http.Route, http.Methods.Select(m => m.ToUpperInvariant()).ToArray(), ProxyAsync);
            }
        }

        app.MapPost("/eventhubs/{hub}/messages", ReceiveEventsAsync);
        app.MapPost("/admin/functions/{name}", InvokeNowAsync);
        app.MapGet("/", (LocalTriggers triggers) => Results.Content(triggers.Describe().ToJsonString(), "application/json"));
        var configuration = Configuration(settings);
        LocalReportPage.Map(app, StorageAccount.TryFrom(configuration), configuration);
        return app;
    }

    /// <summary>The app settings as configuration, as the handler reads them.</summary>
    private static IConfiguration Configuration(LocalSettings settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Values.Select(v => KeyValuePair.Create(v.Key.Replace("__", ":", StringComparison.Ordinal), (string?)v.Value))).Build();

    /// <summary>Capture's container, path and windows for a run whose settings name a storage account.</summary>
    private static (BlobContainerClient Container, Storage.Capture.CapturePath Path, LocalCaptureOptions Options)? LocalCaptureFor(LocalSettings settings)
    {
        if (StorageAccount.TryFrom(Configuration(settings)) is not { } account)
        {
            return null;
        }

        var options = LocalCaptureOptions.From(settings);
        var hub = FunctionCatalog.All.Select(f => f.Trigger).OfType<EventHubTrigger>().First();
        var path = Storage.Capture.CapturePath.Of(settings.Values.GetValueOrDefault("MirrorHub__fullyQualifiedNamespace", "127.0.0.1"), settings.Resolve(hub.EventHubName));
        return (account.Container(options.Container), path, options);
    }

    /// <summary>Forwards a request to the handler unchanged, as the host does with <c>enableProxyingHttpRequest</c>.</summary>
    private static async Task ProxyAsync(HttpContext context, HttpClient handler)
    {
        if (context.Request.ContentLength > HandlerLimits.MaxRequestBodyBytes)
        {
            // The handler refuses it before reading it; answer here rather than stream a body nobody reads.
            await Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large",
                detail: $"The body may hold at most {HandlerLimits.MaxRequestBodyBytes} bytes.").ExecuteAsync(context);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await handler.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException e) when (e.InnerException is BadHttpRequestException bad)
        {
            // The caller's body, not the handler, failed: too slow (Kestrel's minimum data rate, 408) or cut off.
            await Results.Problem(statusCode: bad.StatusCode, title: "Bad request body", detail: "The request body was not received in full or in time.").ExecuteAsync(context);
            return;
        }
        catch (HttpRequestException)
        {
            await Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Handler unavailable", detail: "The function app's handler did not answer.").ExecuteAsync(context);
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    /// <summary>
    /// The Event Hubs REST send API: a batch (<c>application/vnd.microsoft.servicebus.json</c>, an
    /// array of <c>{Body, BrokerProperties, UserProperties}</c>) or one event (the body, with its
    /// partition key in the <c>BrokerProperties</c> header). Answers 201 as the service does.
    /// </summary>
    private static async Task<IResult> ReceiveEventsAsync(string hub, HttpContext context, LocalTriggers triggers)
    {
        if (triggers.Hub is null || !string.Equals(hub, triggers.Hub.Name, StringComparison.OrdinalIgnoreCase))
        {
            return Results.Problem(statusCode: 404, title: "Unknown event hub", detail: $"This local namespace has one hub, '{triggers.Hub?.Name}'.");
        }

        var events = new List<HubEvent>();
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        if (context.Request.ContentType?.StartsWith("application/vnd.microsoft.servicebus.json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                if (JsonNode.Parse(body) is not JsonArray array)
                {
                    return Results.Problem(statusCode: 400, title: "Bad batch", detail: "A batch is a JSON array of {Body, BrokerProperties, UserProperties}.");
                }

                foreach (var item in array)
                {
                    var text = item?["Body"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : item?["Body"]?.ToJsonString();
                    if (text is null)
                    {
                        return Results.Problem(statusCode: 400, title: "Bad batch", detail: "Every event in a batch needs a Body.");
                    }

                    events.Add(new HubEvent(text, item?["BrokerProperties"]?["PartitionKey"]?.GetValue<string>(), item?["UserProperties"] as JsonObject is { } p ? (JsonObject)p.DeepClone() : null));
                }
            }
            catch (JsonException)
            {
                return Results.Problem(statusCode: 400, title: "Bad batch", detail: "The batch is not valid JSON.");
            }
        }
        else
        {
            string? key = null;
            if (context.Request.Headers["BrokerProperties"].FirstOrDefault() is { Length: > 0 } broker)
            {
                try
                {
                    key = JsonNode.Parse(broker)?["PartitionKey"]?.GetValue<string>();
                }
                catch (JsonException)
                {
                    return Results.Problem(statusCode: 400, title: "Bad BrokerProperties", detail: "The BrokerProperties header is not valid JSON.");
                }
            }

            events.Add(new HubEvent(body, key));
        }

        triggers.Hub.Send(events);
        return Results.StatusCode((int)HttpStatusCode.Created);
    }

    /// <summary>Runs a timer function now, like the host's <c>POST /admin/functions/{name}</c>.</summary>
    private static async Task<IResult> InvokeNowAsync(string name, LocalTriggers triggers, CancellationToken cancellationToken)
    {
        var result = await triggers.InvokeTimerNowAsync(name, cancellationToken);
        return result is null
            ? Results.Problem(statusCode: 404, title: "Unknown timer function", detail: $"'{name}' is not a timer function of this app.")
            : Results.Content(
                new JsonObject
                {
                    ["succeeded"] = result.Succeeded,
                    ["status"] = result.Status,
                    ["logs"] = new JsonArray([.. result.Logs.Select(l => (JsonNode?)JsonValue.Create(l))]),
                }.ToJsonString(),
                "application/json",
                statusCode: result.Succeeded ? 202 : 500);
    }
}

/// <summary>The hub consumers and timers of a local run, started and stopped with the front door.</summary>
internal sealed partial class LocalTriggers : BackgroundService
{
    private readonly List<LocalEventHubConsumer> consumers = [];
    private readonly List<LocalTimer> timers = [];
    private readonly ILogger<LocalTriggers> logger;

    public LocalTriggers(LocalSettings settings, LocalRunnerOptions options, FunctionInvoker invoker, TimeProvider time, ILoggerFactory loggers, LocalCapture? capture = null)
    {
        Capture = capture;
        logger = loggers.CreateLogger<LocalTriggers>();
        foreach (var function in FunctionCatalog.All)
        {
            switch (function.Trigger)
            {
                case EventHubTrigger hub:
                    Hub ??= new LocalEventHub(settings.Resolve(hub.EventHubName), options.Partitions, time, capture is null ? null : capture.Add);
                    consumers.Add(new LocalEventHubConsumer(Hub, function, settings.Resolve(hub.ConsumerGroup), invoker, new EventHubBatchOptions(options.MaxEventBatchSize), time, loggers.CreateLogger<LocalEventHubConsumer>()));
                    break;
                case TimerTrigger timer:
                    var expression = settings.Resolve(timer.Schedule);
                    timers.Add(new LocalTimer(function, LocalTimer.Parse(expression), invoker, time, loggers.CreateLogger<LocalTimer>()) { });
                    Schedules[function.Name] = expression;
                    break;
            }
        }
    }

    /// <summary>Capture of the mirror hub to the storage account, when the run has one.</summary>
    public LocalCapture? Capture { get; }

    /// <summary>The mirror hub every eventHubTrigger reads (one hub in this app).</summary>
    public LocalEventHub? Hub { get; }

    public Dictionary<string, string> Schedules { get; } = new(StringComparer.Ordinal);

    public JsonObject Describe() => new()
    {
        ["functions"] = new JsonArray([.. FunctionCatalog.All.Select(f => (JsonNode?)new JsonObject { ["name"] = f.Name, ["trigger"] = f.Trigger.GetType().Name })]),
        ["hub"] = Hub is null ? null : new JsonObject { ["name"] = Hub.Name, ["partitions"] = Hub.Partitions.Count, ["backlog"] = Hub.Backlog },
        ["timers"] = new JsonObject(Schedules.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)JsonValue.Create(s.Value)))),
    };

    public async Task<InvocationResult?> InvokeTimerNowAsync(string name, CancellationToken cancellationToken)
    {
        var timer = timers.FirstOrDefault(t => string.Equals(t.FunctionName, name, StringComparison.OrdinalIgnoreCase));
        return timer is null ? null : await timer.InvokeAsync(last: null, next: DateTimeOffset.MaxValue, isPastDue: false, cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, consumers.Count, timers.Count);
        return Task.WhenAll(consumers.Select(c => c.RunAsync(stoppingToken)).Concat(timers.Select(t => t.RunAsync(stoppingToken))));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Local triggers running: {Consumers} hub consumer(s), {Timers} timer(s)")]
    private static partial void LogStarted(ILogger logger, int consumers, int timers);
}
