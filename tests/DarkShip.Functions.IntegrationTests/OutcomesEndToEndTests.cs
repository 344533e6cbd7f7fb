using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Hosting;
using DarkShip.Functions.Local;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Configuration;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// Outcomes end to end on Azurite through the local runner: an experiment answers half the traffic,
/// outcomes are posted right after the answers (before the model log is written, so JoinOutcomes
/// has to join them), and the PromoteModels timer promotes the challenger on the sequential test's
/// verdict; DriftMonitor writes its reports and the <c>drift</c> and <c>metrics</c> verbs read them.
/// The labels are made to agree with the challenger's scores and contradict the champion's: this test
/// proves the plumbing; the test's statistics are proven by simulation in SequentialTestTests.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OutcomesEndToEndTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Posted_outcomes_are_joined_and_the_timer_promotes_the_better_experiment()
    {
        var model = "fraud" + Guid.NewGuid().ToString("N")[..8];
        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string>
        {
            ["PromoteModelsSchedule"] = "*/2 * * * * *",
            ["JoinOutcomesSchedule"] = "*/2 * * * * *",
            ["DriftMonitorSchedule"] = "*/3 * * * * *",
            ["Drift__MinSamples"] = "100000", // no drift verdicts on a few hundred requests: the drift guardrail is proven in DriftMonitorTests
            ["Drift__LargeSample"] = "100000",
        });
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var cli = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, output, error);
        var actor = new LadderActor("it@test", "end-to-end");
        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud"), DemoSystem.Manifest(model, "fraud"), "1", actor, CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Promote(model, "1"), actor, CancellationToken.None));
        Assert.Equal(0, await cli.RegisterAsync(model, DemoSystem.Model("fraud-challenger"), DemoSystem.Manifest(model, "fraud-challenger"), "2", actor, CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Shadow(model, "2", 100), actor, CancellationToken.None));
        Assert.Equal(0, await cli.RulesAsync(model, ["minOutcomes=100", "minGuardrailSamples=100000", "minSamples=100000"], CancellationToken.None));
        Assert.Equal(0, await cli.MoveAsync(new LadderCommand.Experiment(model, "2", 50), actor, CancellationToken.None));

        await using var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var random = new Random(5);
        var consumer = 0;
        var posted = 0;
        var unmatchedAtPost = new List<string>();
        ModelVersion challenger;
        while ((challenger = (await registry.ReadIfChangedAsync(null, deadline.Token))!.Of(model).Single(v => v.Version == "2")).Stage == ModelStage.Experiment)
        {
            if (posted < 600)
            {
                var rows = Enumerable.Range(0, 100).Select(_ => new
                {
                    entities = new { consumer = $"c{(consumer++ % 2000) + 1}", store = $"s{(consumer % 200) + 1}" },
                    features = new { amount = 10 + (consumer % 400), hour_of_day = consumer % 24 },
                }).ToArray();
                using var response = await client.PostAsJsonAsync($"/api/predict/{model}/batch", new { rows }, deadline.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var answers = JsonDocument.Parse(await response.Content.ReadAsStringAsync(deadline.Token));
                var outcomes = answers.RootElement.GetProperty("predictions").EnumerateArray().Select(p =>
                {
                    var score = p.GetProperty("score").GetDouble();
                    var truth = p.GetProperty("arm").GetString() == "experiment" ? score : 1 - score;
                    return new { predictionId = p.GetProperty("predictionId").GetString(), label = random.NextDouble() < truth ? 1 : 0 };
                }).ToArray();
                using var joined = await client.PostAsJsonAsync("/api/outcomes", new { outcomes }, deadline.Token);
                Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
                using var result = JsonDocument.Parse(await joined.Content.ReadAsStringAsync(deadline.Token));
                unmatchedAtPost.AddRange(result.RootElement.GetProperty("unmatched").EnumerateArray().Select(id => id.GetString()!));
                posted += outcomes.Length;
            }

            await Task.Delay(300, deadline.Token);
        }

        Assert.Equal(ModelStage.Champion, challenger.Stage);
        ModelEvent promotion;
        while ((promotion = (await audit.ReadAsync(model, deadline.Token)).Last()).Action != "promote" || promotion.Version != "2")
        {
            await Task.Delay(100, deadline.Token); // the audit row follows the registry write it records
        }

        Assert.Equal((ModelPromoter.Actor, "promote", "2"), (promotion.Actor, promotion.Action, promotion.Version));
        Assert.Contains("the experiment analysis found the challenger better", promotion.Reason, StringComparison.Ordinal);
        Assert.Equal("logloss", promotion.Evidence["experiment.metric"]);
        Assert.True(long.Parse(promotion.Evidence["experiment.challengerOutcomes"], System.Globalization.CultureInfo.InvariantCulture) >= 100);

        // Outcomes that raced the model log were kept as unmatched and joined by JoinOutcomes. Its runs
        // are started here, as the host's admin endpoint does: the schedule's runs share Azurite with the
        // rest of the suite's outcomes, so when one of them ends is not this test's to know. The log queue
        // sends within moments of the last answer, so the second run at the latest finds every row.
        var store = account.Outcomes();
        var notJoined = unmatchedAtPost;
        for (var runs = 0; notJoined.Count > 0; runs++)
        {
            Assert.True(runs < 3, $"{notJoined.Count} outcomes were never joined, e.g. {notJoined[0]}");
            using (var join = await client.PostAsync("/admin/functions/JoinOutcomes", null, deadline.Token))
            {
                Assert.Equal(HttpStatusCode.Accepted, join.StatusCode);
            }

            var still = new List<string>();
            foreach (var id in notJoined)
            {
                if ((await store.FindAsync(id, deadline.Token))!.Status != Serving.Outcomes.OutcomeStatus.Joined)
                {
                    still.Add(id);
                }
            }

            notJoined = still;
            await Task.Delay(500, deadline.Token);
        }

        // Every posted outcome is kept and, once the log was written, joined.
        var outcomesTable = account.Table(Storage.Adapters.TableOutcomeStore.OutcomesTable);
        var kept = await outcomesTable.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"Versions ge {model} and Versions lt {model + "~"}"), cancellationToken: deadline.Token).CountAsync(deadline.Token);
        Assert.True(kept >= 100, $"{kept} joined outcomes");

        var monitoring = new MonitoringCli(registry, artifacts, account.Drift(), account.Outcomes(), TimeProvider.System, output, error);
        output.GetStringBuilder().Clear();
        Assert.Equal(0, await monitoring.MetricsAsync(model, 1, 1, deadline.Token));
        Assert.Matches(@"(?m)^2\s+Champion\s+all\s+\d+\s+0\.\d+", output.ToString());
        Assert.Contains("calibration of 2", output.ToString(), StringComparison.Ordinal);

        output.GetStringBuilder().Clear();
        for (var i = 0; i < 50 && !output.ToString().Contains("amount", StringComparison.Ordinal); i++)
        {
            output.GetStringBuilder().Clear();
            Assert.Equal(0, await monitoring.DriftAsync(model, null, deadline.Token));
            await Task.Delay(200, deadline.Token);
        }

        Assert.Matches(@"(?m)^amount\s+insufficient", output.ToString());
        Assert.Equal(2, await monitoring.DriftAsync("nobody" + model, null, deadline.Token));
    }
}
