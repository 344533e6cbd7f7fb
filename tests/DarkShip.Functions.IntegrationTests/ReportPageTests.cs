using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Local;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Registry;
using Microsoft.Playwright;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// The model report on Azurite through the local runner, with seeded traffic: a champion, a challenger in the
/// shadow at 100 %, predictions with their outcomes posted and joined. The live page (<c>/report/{model}</c>) is
/// opened in a real browser — Debian's Chromium driven by Playwright — and <c>darkship report</c> writes the
/// same page to a file.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReportPageTests(AzuriteFixture azurite)
{
    [BrowserFact]
    public async Task The_live_report_renders_every_section_in_Chromium_without_console_errors_and_concludes_what_the_registry_says()
    {
        var (model, run, registry) = await SeededAsync();
        await using var _ = run;
        var url = $"{run.Url}/report/{model}?hours=1";

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(BrowserFactAttribute.LaunchOptions());
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 900 } });
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                problems.Add($"console {message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => problems.Add("page error: " + error);
        page.RequestFailed += (_, request) => problems.Add($"request failed: {request.Url}");
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);

        var response = await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        Assert.Equal(200, response!.Status);
        Assert.Equal("text/html; charset=utf-8", response.Headers["content-type"]);

        // The conclusion says what the registry says: the champion, and the challenger held in the shadow at 100 %.
        var versions = (await registry.ReadIfChangedAsync(null))!.Of(model);
        Assert.Equal((ModelStage.Shadow, 100.0), versions.Where(v => v.Version == "2").Select(v => (v.Stage, v.SharePercent)).Single());
        var conclusions = await page.Locator("#conclusion .conclusions li").AllInnerTextsAsync();
        Assert.Equal(2, conclusions.Count);
        Assert.StartsWith("v1 is the champion (since ", conclusions[0], StringComparison.Ordinal);
        Assert.Matches(@"^v2 holds at shadow 100 %: \d+ of 100000 samples at this step\.", conclusions[1]);

        // Every section renders charts that the browser lays out with a size and fills with drawing.
        foreach (var (section, least) in new[] { ("ladder", 1), ("shadow", 5), ("outcomes", 4), ("drift", 6) })
        {
            var charts = page.Locator($"#{section} figure.chart svg");
            Assert.True(await charts.CountAsync() >= least, $"{section}: {await charts.CountAsync()} charts, expected at least {least}");
            for (var i = 0; i < await charts.CountAsync(); i++)
            {
                var box = await charts.Nth(i).BoundingBoxAsync();
                Assert.True(box is { Width: > 200, Height: > 40 }, $"{section} chart {i} is laid out at {box?.Width}×{box?.Height}");
                var marks = await charts.Nth(i).EvaluateAsync<int>("svg => svg.querySelectorAll('path, polyline, polygon, rect, line').length");
                Assert.True(marks > 10, $"{section} chart {i} draws {marks} marks");
            }
        }

        var moves = await page.Locator("#ladder table tbody tr").AllInnerTextsAsync();
        Assert.Contains(moves, m => m.Contains("v1", StringComparison.Ordinal) && m.Contains("registered → champion", StringComparison.Ordinal) && m.Contains("it@test", StringComparison.Ordinal));
        Assert.Contains(moves, m => m.Contains("v2", StringComparison.Ordinal) && m.Contains("registered → shadow 100 %", StringComparison.Ordinal));
        Assert.Equal(2, await page.Locator("#outcomes table tbody tr").CountAsync());
        Assert.Contains("paired shadow requests", await page.Locator("#outcomes p.test").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Empty(problems);
        Assert.Equal([url], requests); // one self-contained page: nothing else fetched

        var screenshot = Path.Combine(DemoSystem.Root, ".build", "test-artifacts", "report-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 50_000);

        // An unknown model is a page that says so, not a stack trace.
        var missing = await page.GotoAsync($"{run.Url}/report/nosuch{model}");
        Assert.Equal(404, missing!.Status);
        Assert.Equal($"No versions of 'nosuch{model}' are registered.", await page.Locator("#conclusion p").InnerTextAsync());
        var empty = await page.GotoAsync($"{run.Url}/report/{model}?hours=0");
        Assert.Equal(400, empty!.Status);
        Assert.Contains("range is empty", await page.Locator("#conclusion p").InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Darkship_report_writes_the_page_to_a_file_and_refuses_an_unknown_model_or_an_empty_range_with_exit_2()
    {
        var (model, run, _) = await SeededAsync();
        await using var __ = run;
        var folder = Directory.CreateTempSubdirectory("darkship-report-");
        var settings = Path.Combine(folder.FullName, "local.settings.json");
        await File.WriteAllTextAsync(settings, new JsonObject { ["Values"] = new JsonObject { ["AzureWebJobsStorage"] = azurite.ConnectionString } }.ToJsonString());
        var file = Path.Combine(folder.FullName, "out", "report.html");

        var (written, output, _) = await ReportAsync(model, "--output", file, "--settings", settings);
        var (unknown, _, unknownError) = await ReportAsync("nosuch" + model, "--output", file + ".2", "--settings", settings);
        var (empty, _, emptyError) = await ReportAsync(model, "--from", "2026-11-30T10:00Z", "--to", "2026-11-30T10:00Z", "--settings", settings);
        var (version, _, versionError) = await ReportAsync(model, "--version", "7", "--settings", settings);

        Assert.Equal(0, written);
        Assert.Contains($"report: wrote {file}", output, StringComparison.Ordinal);
        Assert.Matches(@"v2 holds at shadow 100 %: \d+ of 100000 samples", output);
        var html = await File.ReadAllTextAsync(file);
        foreach (var section in new[] { "conclusion", "ladder", "shadow", "outcomes", "drift" })
        {
            Assert.Contains($"id=\"{section}\"", html, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.Equal((2, $"report: No versions of 'nosuch{model}' are registered."), (unknown, unknownError.Trim()));
        Assert.False(File.Exists(file + ".2"));
        Assert.Equal(2, empty);
        Assert.StartsWith("report: the range is empty", emptyError, StringComparison.Ordinal);
        Assert.Equal((2, $"report: '{model}' has no version '7' (registered: 1, 2)."), (version, versionError.Trim()));

        // Storage that does not answer: exit 1, said in a line, no page written.
        var gone = Path.Combine(folder.FullName, "gone.settings.json");
        const string account = Storage.StorageEndpoints.DevelopmentAccount;
        var deadPort = $"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={Storage.StorageEndpoints.DevelopmentKey};" +
            $"TableEndpoint=http://127.0.0.1:9/{account};BlobEndpoint=http://127.0.0.1:9/{account}"; // nothing listens on port 9
        await File.WriteAllTextAsync(gone, new JsonObject { ["Values"] = new JsonObject { ["AzureWebJobsStorage"] = deadPort } }.ToJsonString());
        var (down, _, downError) = await ReportAsync(model, "--output", file + ".3", "--settings", gone);
        Assert.Equal(1, down);
        Assert.StartsWith("report: the storage account could not be used: ", downError, StringComparison.Ordinal);
        Assert.False(File.Exists(file + ".3"));
    }

    [Fact]
    public async Task The_runners_demo_traffic_moves_a_challenger_up_the_ladder_and_the_live_page_shows_the_move()
    {
        // As ./run.sh runs it, on a model of the test's own and at a test's pace: the demo's callers, PromoteModels every 2 s.
        var model = "fraud" + Guid.NewGuid().ToString("N")[..8];
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, TextWriter.Null, TextWriter.Null);
        var actor = new LadderActor("it@test", "demo traffic");
        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud"), DemoSystem.Manifest(model, "fraud"), "1", actor, CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Promote(model, "1"), actor, CancellationToken.None));
        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud-challenger"), DemoSystem.Manifest(model, "fraud-challenger"), "2", actor, CancellationToken.None));
        Assert.Equal(0, await cli.RulesAsync(model, ["minSamples=20", "maxPredictionPsi=50", "minGuardrailSamples=100000"], CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Shadow(model, "2", 10), actor, CancellationToken.None));
        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string> { ["PromoteModelsSchedule"] = "*/2 * * * * *" });

        await using var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0, DemoTraffic: new LocalDemoTrafficOptions(50, model, TimeSpan.FromSeconds(2))), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while ((await registry.ReadIfChangedAsync(null, deadline.Token))!.Of(model).Single(v => v.Version == "2").SharePercent < 100)
        {
            await Task.Delay(250, deadline.Token);
        }

        var page = await client.GetStringAsync($"/report/{model}?hours=1", deadline.Token);
        Assert.Matches(@"<td>v2</td><td>shadow: shadow 10 % → shadow 100 %</td><td>PromoteModels</td><td>ramp: \d+ samples at 10 % within bounds</td>", page);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"30\">", page, StringComparison.Ordinal);
        // The demo's outcomes reach the model log's predictions: JoinOutcomes finds labels to join (the deadline fails the test otherwise).
        var outcomes = account.Outcomes();
        while (await outcomes.ReadLabelsAsync(model, "1", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1), deadline.Token).CountAsync(deadline.Token) == 0)
        {
            using var join = await client.PostAsync("/admin/functions/JoinOutcomes", null, deadline.Token);
            Assert.Equal(HttpStatusCode.Accepted, join.StatusCode);
            await Task.Delay(500, deadline.Token);
        }
    }

    private static async Task<(int Exit, string Output, string Error)> ReportAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var parsed = ReportCommand.Create().Parse(args);
        var exit = await parsed.InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>
    /// A model of the test's own (other tests share Azurite): champion 1, challenger 2 in the shadow at 100 % held there by its
    /// rules, 400 predictions through the local runner with their outcomes posted, scored in the shadow and joined.
    /// </summary>
    private async Task<(string Model, LocalRun Run, IModelRegistry Registry)> SeededAsync()
    {
        var model = "fraud" + Guid.NewGuid().ToString("N")[..8];
        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string> { ["JoinOutcomesSchedule"] = "0 0 0 1 1 *" }); // joins are started below
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, TextWriter.Null, TextWriter.Null);
        var actor = new LadderActor("it@test", "report page");
        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud"), DemoSystem.Manifest(model, "fraud"), "1", actor, CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Promote(model, "1"), actor, CancellationToken.None));
        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud-challenger"), DemoSystem.Manifest(model, "fraud-challenger"), "2", actor, CancellationToken.None));
        Assert.Equal(0, await cli.RulesAsync(model, ["minSamples=100000", "minGuardrailSamples=100000"], CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Shadow(model, "2", 100), actor, CancellationToken.None));

        var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var random = new Random(11);
        var ids = new List<string>();
        for (var batch = 0; batch < 4; batch++)
        {
            var rows = Enumerable.Range(batch * 100, 100).Select(i => new
            {
                entities = new { consumer = $"c{(i % 2000) + 1}", store = $"s{(i % 200) + 1}" },
                features = new { amount = 10 + (i * 7 % 400), hour_of_day = i % 24 },
            }).ToArray();
            using var response = await client.PostAsJsonAsync($"/api/predict/{model}/batch", new { rows }, deadline.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var answers = JsonDocument.Parse(await response.Content.ReadAsStringAsync(deadline.Token));
            var outcomes = answers.RootElement.GetProperty("predictions").EnumerateArray().Select(p => new
            {
                predictionId = p.GetProperty("predictionId").GetString()!,
                label = random.NextDouble() < p.GetProperty("score").GetDouble() ? 1 : 0,
            }).ToArray();
            ids.AddRange(outcomes.Select(o => o.predictionId));
            using var posted = await client.PostAsJsonAsync("/api/outcomes", new { outcomes }, deadline.Token);
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }

        // ShadowScore has counted every mirrored request (scored, or skipped when a busy machine's feature read ran out of
        // time); then JoinOutcomes joins every outcome to each version that logged its prediction: all to the champion,
        // the scored ones to the shadow.
        var aggregates = account.Aggregates();
        Serving.Monitoring.ModelStats shadow;
        while ((shadow = Serving.Monitoring.ModelStats.From(await aggregates.ReadAsync(model, "2", null, DateTimeOffset.MinValue, deadline.Token))).Samples + shadow.FeaturesUnavailable < ids.Count)
        {
            await Task.Delay(200, deadline.Token);
        }

        var outcomesStore = account.Outcomes();
        async Task<int> LabelsAsync(string version) =>
            await outcomesStore.ReadLabelsAsync(model, version, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1), deadline.Token).CountAsync(deadline.Token);
        while (await LabelsAsync("1") < ids.Count || await LabelsAsync("2") < shadow.Samples - shadow.Errors - shadow.TimedOut)
        {
            using var join = await client.PostAsync("/admin/functions/JoinOutcomes", null, deadline.Token);
            Assert.Equal(HttpStatusCode.Accepted, join.StatusCode);
            await Task.Delay(500, deadline.Token);
        }

        Assert.True(shadow.Pairs > 0, "the shadow scored none of the requests");
        return (model, run, registry);
    }
}

/// <summary>
/// A test that needs Chromium: skipped, saying why, where Debian's <c>chromium</c> is not installed (test.sh installs it).
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    private static readonly string[] Candidates = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

    public BrowserFactAttribute()
    {
        if (Executable() is null)
        {
            Skip = "Chromium is not installed (/usr/bin/chromium): apt-get install chromium (test.sh installs it).";
        }
    }

    private static string? Executable() => Candidates.FirstOrDefault(File.Exists);

    /// <summary>Headless Chromium as this machine runs it: no sandbox (root), and none of its own network traffic.</summary>
    public static BrowserTypeLaunchOptions LaunchOptions() => new()
    {
        ExecutablePath = Executable(),
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    };
}
