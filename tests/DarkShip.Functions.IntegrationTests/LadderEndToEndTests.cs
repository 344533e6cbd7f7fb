using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Local;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Registry;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;
using Microsoft.Extensions.Configuration;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// The ladder end to end on Azurite through the local runner: a champion and a challenger registered
/// with the operator verbs, live traffic through the front door, the mirror hub delivering to
/// ShadowScore, and the PromoteModels timer moving the challenger from Shadow 1 % onwards on its own.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LadderEndToEndTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ChallengerClimbsFromShadowOnePercentToAnExperiment_ByTheTimer_WithItsAuditTrail()
    {
        // A model of its own, so other tests' traffic on the shared Azurite cannot touch its ladder.
        var model = "fraud" + Guid.NewGuid().ToString("N")[..8];
        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string>
        {
            ["PromoteModelsSchedule"] = "*/2 * * * * *", // every two seconds: the host's NCRONTAB, with seconds
        });
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, output, error);
        var operatorActor = new LadderActor("it@test", "end-to-end");

        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud"), DemoSystem.Manifest(model, "fraud"), "1", operatorActor, CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Promote(model, "1"), operatorActor, CancellationToken.None));
        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud-challenger"), DemoSystem.Manifest(model, "fraud-challenger"), null, operatorActor, CancellationToken.None));
        Assert.Equal(ModelsCommand.Refused, await cli.MoveAsync(new LadderCommand.Experiment(model, "2", 10), operatorActor, CancellationToken.None));
        Assert.Contains("only a shadow version can enter an experiment", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Shadow(model, "2", 1), operatorActor, CancellationToken.None));
        // Small steps so the test runs in a minute. At a dozen samples a PSI is noise, so its bound is
        // opened here; the PSI rule itself is proven in ModelPromoterTests.
        Assert.Equal(0, await cli.RulesAsync(model, ["minSamples=12", "maxPredictionPsi=50", "minGuardrailSamples=100000"], CancellationToken.None));

        await using var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var seen = new List<(ModelStage, double)>();
        var consumer = 0;
        ModelVersion challenger;
        while (true)
        {
            challenger = (await registry.ReadIfChangedAsync(null, deadline.Token))!.Of(model).Single(v => v.Version == "2");
            if (seen.Count == 0 || seen[^1] != (challenger.Stage, challenger.SharePercent))
            {
                seen.Add((challenger.Stage, challenger.SharePercent));
            }

            if (challenger.Stage != ModelStage.Shadow)
            {
                break;
            }

            var rows = Enumerable.Range(0, 100).Select(_ => new
            {
                entities = new { consumer = $"c{(consumer++ % 2000) + 1}", store = $"s{(consumer % 200) + 1}" },
                features = new { amount = 10 + (consumer % 400), hour_of_day = consumer % 24 },
            }).ToArray();
            using var response = await client.PostAsJsonAsync($"/api/predict/{model}/batch", new { rows }, deadline.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(200, deadline.Token); // let the mirror, ShadowScore and the timer catch up; the loop ends on the registry, not the clock
        }

        Assert.Equal([(ModelStage.Shadow, 1.0), (ModelStage.Shadow, 10.0), (ModelStage.Shadow, 100.0), (ModelStage.Experiment, 10.0)], seen);
        // The audit row is appended right after the registry write it records: wait for the last one.
        List<ModelEvent> byTimer;
        while ((byTimer = [.. (await audit.ReadAsync(model, deadline.Token)).Where(e => e.Actor == ModelPromoter.Actor)]).Count < 3)
        {
            await Task.Delay(100, deadline.Token);
        }

        Assert.Equal(
            [("shadow", 1.0, 10.0), ("shadow", 10.0, 100.0), ("experiment", 100.0, 10.0)],
            byTimer.Select(e => (e.Action, e.FromShare, e.ToShare)));
        Assert.All(byTimer, e =>
        {
            Assert.True(long.Parse(e.Evidence["samples"], System.Globalization.CultureInfo.InvariantCulture) >= 12, e.Evidence["samples"]);
            Assert.Equal("0", e.Evidence["errorRate"]);
            Assert.Equal("12", e.Evidence["rule.minSamples"]);
        });
        Assert.Equal(["register", "promote", "register", "shadow", "shadow", "shadow", "experiment"], (await audit.ReadAsync(model, deadline.Token)).Select(e => e.Action));

        // The shadow's scores are in the model log, and the status table reads the aggregates.
        var shadowRows = await account.Table(TablePredictionLog.TableName).QueryAsync<Azure.Data.Tables.TableEntity>(
            Azure.Data.Tables.TableClient.CreateQueryFilter($"Arm eq {"shadow"} and Model eq {model}"), cancellationToken: deadline.Token).Take(1).ToListAsync(deadline.Token);
        Assert.Equal("2", Assert.Single(shadowRows).Get<string>("Version"));
        output.GetStringBuilder().Clear();
        Assert.Equal(0, await cli.StatusAsync(model, deadline.Token));
        Assert.Matches(@"(?m)^2\s+xgboost-json\s+Experiment\s+10 %", output.ToString());
        Assert.Matches(@"(?m)^1\s+xgboost-json\s+Champion\s+100 %\s+\S+ \S+\s+[1-9]\d*", output.ToString()); // the champion's own samples since its promotion
    }
}
