// The least a Kestrel custom handler does before its first answer: an empty builder, Kestrel on the
// host's port, one route. What DarkShip's start-up is compared with (benchmarks/startup.sh).
var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddEnvironmentVariables();
builder.WebHost.UseKestrelCore();
builder.WebHost.UseUrls($"http://127.0.0.1:{builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"] ?? "7071"}");
builder.Services.AddRoutingCore();
var app = builder.Build();
app.UseRouting();
app.MapGet("/", () => "ready");
await app.RunAsync();
