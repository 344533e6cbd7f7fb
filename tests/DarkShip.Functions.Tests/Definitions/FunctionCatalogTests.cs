using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Definitions;
using DarkShip.Functions.Local;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DarkShip.Functions.Tests.Definitions;

public sealed class FunctionCatalogTests(InMemoryHandler factory) : IClassFixture<InMemoryHandler>
{
    [Fact]
    public void Catalog_HasTheSixFunctionsWithTheirTriggers()
    {
        var triggers = FunctionCatalog.All.ToDictionary(f => f.Name, f => f.Trigger.GetType().Name);

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["Predict"] = nameof(HttpTrigger),
                ["Outcomes"] = nameof(HttpTrigger),
                ["ShadowScore"] = nameof(EventHubTrigger),
                ["DriftMonitor"] = nameof(TimerTrigger),
                ["PromoteModels"] = nameof(TimerTrigger),
                ["JoinOutcomes"] = nameof(TimerTrigger),
            },
            triggers);
    }

    [Fact]
    public void FunctionJson_ShadowScore_IsABatchStringTriggerWithExponentialRetry()
    {
        var json = FunctionCatalog.All.Single(f => f.Name == "ShadowScore").ToFunctionJson();
        var binding = json["bindings"]![0]!;

        Assert.Equal("eventHubTrigger", (string?)binding["type"]);
        Assert.Equal("in", (string?)binding["direction"]);
        Assert.Equal("many", (string?)binding["cardinality"]);
        Assert.Equal("string", (string?)binding["dataType"]);
        Assert.Equal("%MirrorHubName%", (string?)binding["eventHubName"]);
        Assert.Equal("%ShadowConsumerGroup%", (string?)binding["consumerGroup"]);
        Assert.Equal("MirrorHub", (string?)binding["connection"]);
        Assert.Equal("exponentialBackoff", (string?)json["retry"]!["strategy"]);
        Assert.Equal(5, (int?)json["retry"]!["maxRetryCount"]);
        Assert.Equal("00:00:04", (string?)json["retry"]!["minimumInterval"]);
        Assert.Equal("00:15:00", (string?)json["retry"]!["maximumInterval"]);
    }

    [Fact]
    public void FunctionJson_Predict_IsAFunctionLevelHttpTriggerWithAnHttpOutput()
    {
        var json = FunctionCatalog.All.Single(f => f.Name == "Predict").ToFunctionJson();

        Assert.Equal("httpTrigger", (string?)json["bindings"]![0]!["type"]);
        Assert.Equal("function", (string?)json["bindings"]![0]!["authLevel"]);
        Assert.Equal("predict/{model}/{form?}", (string?)json["bindings"]![0]!["route"]);
        Assert.Equal("http", (string?)json["bindings"]![1]!["type"]);
        Assert.Equal("out", (string?)json["bindings"]![1]!["direction"]);
    }

    [Fact]
    public void Settings_EveryPercentReferenceIsInTheSampleSettingsAndEveryScheduleIsValidNcrontab()
    {
        var sample = LocalSettings.Load(Path.Combine(TestPaths.RepoRoot, "local.settings.sample.json"));
        var fileValues = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "local.settings.sample.json")))!["Values"]!.AsObject();

        foreach (var function in FunctionCatalog.All)
        {
            var text = function.ToFunctionJson().ToJsonString();
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, "%([^%]+)%"))
            {
                Assert.True(fileValues.ContainsKey(m.Groups[1].Value), $"{function.Name} reads %{m.Groups[1].Value}%, which local.settings.sample.json does not set");
            }

            if (function.Trigger is TimerTrigger timer)
            {
                var schedule = LocalTimer.Parse(sample.Resolve(timer.Schedule));
                Assert.NotNull(schedule);
            }
        }
    }

    [Fact]
    public void Handler_HasAnEndpointForEveryFunction()
    {
        var patterns = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText!.TrimStart('/'))
            .ToHashSet();

        foreach (var function in FunctionCatalog.All)
        {
            if (function.Trigger is HttpTrigger http)
            {
                var route = "api/" + http.Route.Replace("/{form?}", "", StringComparison.Ordinal);
                Assert.Contains(route, patterns);
            }
            else
            {
                Assert.Contains(function.Name, patterns);
            }
        }
    }

    [Fact]
    public void HostJson_DeclaresTheCustomHandlerProxyingAndTheBundle()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "host.json")));
        var root = doc.RootElement;

        Assert.Equal("2.0", root.GetProperty("version").GetString());
        Assert.Equal("[4.*, 5.0.0)", root.GetProperty("extensionBundle").GetProperty("version").GetString());
        Assert.Equal("DarkShip.Functions", root.GetProperty("customHandler").GetProperty("description").GetProperty("defaultExecutablePath").GetString());
        Assert.True(root.GetProperty("customHandler").GetProperty("enableProxyingHttpRequest").GetBoolean());
        Assert.Equal("api", root.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 8)]
    [InlineData(3, 16)]
    [InlineData(9, 900)]
    [InlineData(40, 900)]
    public void RetryPolicy_DelayDoublesFromTheMinimumUpToTheMaximum(int attempt, int seconds)
    {
        var policy = new RetryPolicy(5, TimeSpan.FromSeconds(4), TimeSpan.FromMinutes(15));

        Assert.Equal(TimeSpan.FromSeconds(seconds), policy.DelayBefore(attempt));
    }
}
