using System.CommandLine;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Local;

namespace DarkShip.Functions.Cli;

internal static class LocalCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port of the local front door on 127.0.0.1.", DefaultValueFactory = _ => 7071 };
        var settings = new Option<FileInfo>("--settings") { Description = "A local.settings.json whose Values are the app settings.", DefaultValueFactory = _ => new FileInfo("local.settings.json") };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the in-memory mirror hub.", DefaultValueFactory = _ => 4 };
        var demoTraffic = new Option<double>("--demo-traffic") { Description = "Send the demo's callers: this many fraud predictions a second, each with its outcome shortly after (0: none; ./run.sh sends 5).", DefaultValueFactory = _ => 0 };
        var command = new Command("local", "Run the whole system on this machine: the handler, and stand-ins for the host's HTTP, Event Hubs and timer triggers.")
        {
            port, settings, partitions, demoTraffic,
        };
        demoTraffic.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 0 or > 1000)
            {
                r.AddError("--demo-traffic must be 0 to 1000 predictions a second.");
            }
        });
        command.SetAction((result, cancellationToken) => RunAsync(
            new LocalRunnerOptions(result.GetValue(port), result.GetValue(partitions), DemoTraffic: new LocalDemoTrafficOptions(result.GetValue(demoTraffic))),
            LocalSettings.Load(result.GetValue(settings)!.FullName),
            result.InvocationConfiguration.Output,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(LocalRunnerOptions options, LocalSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        await using var run = await LocalRun.StartAsync(options, settings, cancellationToken);
        var url = run.Url;
        const string sampleBody = "{\"entities\":{\"consumer\":\"c1\",\"store\":\"s9\"},\"features\":{\"amount\":250,\"hour_of_day\":3}}";
        await output.WriteLineAsync($$"""

            DarkShip is running locally at {{url}}
              predict      POST {{url}}/api/predict/{model}   (and /api/predict/{model}/batch)
              outcomes     POST {{url}}/api/outcomes
              mirror hub   POST {{url}}/eventhubs/{{run.Triggers.Hub?.Name}}/messages -> ShadowScore ({{options.Partitions}} partitions)
              timers       {{string.Join(", ", run.Triggers.Schedules.Select(s => $"{s.Key} '{s.Value}'"))}}  (run one now: POST {{url}}/admin/functions/{name})
              report       GET  {{url}}/report/fraud   (a model's ladder, shadow comparisons, outcomes and drift; reloads itself){{(options.DemoTraffic is { Rate: > 0 } demo ? $"\n  demo traffic {demo.Rate} fraud predictions/s, each with its outcome {demo.Delay.TotalSeconds:0} s later (--demo-traffic 0: none)" : "")}}
            Try it:
              curl -s -X POST {{url}}/api/predict/fraud -H 'content-type: application/json' -d '{{sampleBody}}'
            Press Ctrl-C to stop.
            """);
        await run.WaitForShutdownAsync(cancellationToken);
        return 0;
    }
}

/// <summary>A running local system: the handler in this process, and the front door in front of it.</summary>
internal sealed class LocalRun : IAsyncDisposable
{
    private readonly WebApplication handler;
    private readonly WebApplication door;

    private LocalRun(WebApplication handler, WebApplication door)
    {
        this.handler = handler;
        this.door = door;
    }

    public string Url => door.Urls.First();

    public LocalTriggers Triggers => door.Services.GetRequiredService<LocalTriggers>();

    public IServiceProvider HandlerServices => handler.Services;

    /// <summary>Starts the handler and the front door; <paramref name="configureHandler"/> may replace the handler's adapters (tests).</summary>
    public static async Task<LocalRun> StartAsync(LocalRunnerOptions options, LocalSettings settings, CancellationToken cancellationToken, Action<IServiceCollection>? configureHandler = null)
    {
        // The front door's port is fixed before the handler starts, so the handler's mirror can point at the local hub.
        options = options.Port == 0 ? options with { Port = FreeLoopbackPort() } : options;
        var values = settings.Values.ToDictionary(v => v.Key.Replace("__", ":", StringComparison.Ordinal), v => (string?)v.Value, StringComparer.OrdinalIgnoreCase);
        if (!values.TryGetValue(MirrorNamespaceKey, out var mirror) || mirror is null || mirror.StartsWith("127.0.0.1", StringComparison.Ordinal) || mirror.StartsWith("localhost", StringComparison.OrdinalIgnoreCase))
        {
            values[MirrorNamespaceKey] = $"127.0.0.1:{options.Port}";
        }

        // The handler gets the app settings as configuration, as the host passes them in its environment.
        var handler = HandlerApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(values);
            b.WebHost.UseUrls("http://127.0.0.1:0");
            b.Services.AddSingleton<IHostLifetime, OwnedLifetime>();
            configureHandler?.Invoke(b.Services);
        });
        await handler.StartAsync(cancellationToken);
        var handlerUri = new Uri(handler.Urls.First());
        await WaitUntilReadyAsync(handlerUri, cancellationToken);

        var door = LocalFrontDoor.Build(options, handlerUri, settings);
        await door.StartAsync(cancellationToken);
        return new LocalRun(handler, door);
    }

    private const string MirrorNamespaceKey = "MirrorHub:fullyQualifiedNamespace";

    private static int FreeLoopbackPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => door.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await door.StopAsync();
        await handler.StopAsync();
        await door.DisposeAsync();
        await handler.DisposeAsync();
    }

    /// <summary>
    /// Asks <c>GET /</c> as the host does before it sends any invocation, until it answers 200: the handler
    /// holds that answer until it has read the registry (503 after <c>Serving:ModelLoadWaitSeconds</c>), so
    /// one request usually suffices; refused connections (not listening yet) are retried every 50 ms, for 30 s.
    /// </summary>
    private static async Task WaitUntilReadyAsync(Uri handler, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = handler, Timeout = TimeSpan.FromSeconds(10) };
        var started = TimeProvider.System.GetTimestamp();
        while (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var response = await client.GetAsync("/", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new InvalidOperationException($"the handler at {handler} never answered its readiness check");
    }

    /// <summary>The front door owns Ctrl-C; the handler is started and stopped by <see cref="LocalRun"/>.</summary>
    private sealed class OwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
