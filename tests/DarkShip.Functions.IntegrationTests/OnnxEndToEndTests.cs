using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DarkShip.Functions.Cli;
using DarkShip.Functions.Local;
using DarkShip.Serving.Export;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Registry;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>
/// An ONNX model through every path on Azurite and the local runner: an XGBoost model and the same trees as
/// an ONNX graph (tools/fixtures/generate_onnx_fixtures.py, binary_logistic) registered under one name,
/// the ONNX one shadowing the XGBoost champion, replayed on the logged traffic, then promoted. Every score
/// is XGBoost's own for the fixture row (ONNX Runtime within 2e-6, DarkShip's engine within 1e-6).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OnnxEndToEndTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly string Fixture = Path.Combine(DemoSystem.Root, "tests", "DarkShip.Scoring.Tests", "Fixtures", "onnx", "binary_logistic");
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("darkship-onnx");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public async Task An_ONNX_model_shadows_the_XGBoost_champion_replays_and_answers_once_promoted_with_XGBoosts_own_scores()
    {
        var model = "cancer" + Guid.NewGuid().ToString("N")[..8];
        using var cases = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Fixture, "cases.json")));
        var rows = cases.RootElement.GetProperty("rows").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()).ToArray()).ToArray();
        var expected = cases.RootElement.GetProperty("transformed").EnumerateArray().Select(p => p[0].GetDouble()).ToArray();
        var (account, registry, artifacts, audit) = await DemoSystem.SeedAsync(azurite);
        var models = new ModelsCli(registry, artifacts, audit, account.Aggregates(), account.FeatureStore(), TimeProvider.System, TextWriter.Null, TextWriter.Null);
        var actor = new LadderActor("it@test", "onnx end to end");
        Assert.Equal(0, await models.RegisterAsync(model, new FileInfo(Path.Combine(Fixture, "model.json")), Manifest(model, "xgboost-json", rows[0].Length), "1", actor, CancellationToken.None));
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Promote(model, "1"), actor, CancellationToken.None));
        var onnxManifest = Manifest(model, null, rows[0].Length); // the format left to the file
        Assert.Equal(0, await models.RegisterAsync(model, new FileInfo(Path.Combine(Fixture, "model.onnx")), onnxManifest, "2", actor, CancellationToken.None));
        Assert.Equal("onnx", (await audit.ReadAsync(model, CancellationToken.None)).Last(e => e.Action == "register").Evidence["format"]);
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Shadow(model, "2", 100), actor, CancellationToken.None));

        var settings = DemoSystem.Settings(azurite, new Dictionary<string, string> { ["Serving__ModelRefreshSeconds"] = "1" });
        await using var run = await LocalRun.StartAsync(new LocalRunnerOptions(Port: 0), settings, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri(run.Url) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);

        // Predict: the XGBoost champion answers; the ONNX shadow scores the mirrored request.
        var ids = new string[rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            var answer = await PredictAsync(client, model, rows[r], deadline.Token);
            Assert.Equal(("1", "champion"), (answer.GetProperty("version").GetString(), answer.GetProperty("arm").GetString()));
            Assert.True(Math.Abs(expected[r] - answer.GetProperty("score").GetDouble()) <= 1e-6, $"row {r}: XGBoost {expected[r]}, champion {answer.GetProperty("score").GetDouble()}");
            ids[r] = answer.GetProperty("predictionId").GetString()!;
        }

        for (var r = 0; r < rows.Length; r++)
        {
            IReadOnlyList<LoggedPrediction> logged = [];
            while (!(logged = await account.PredictionLog().FindLoggedAsync(ids[r], deadline.Token)).Any(l => l.Version == "2"))
            {
                await Task.Delay(200, deadline.Token); // the mirror, ShadowScore and the model log run behind the answers
            }

            var shadow = logged.Single(l => l.Version == "2");
            Assert.Equal("shadow", shadow.Arm);
            Assert.True(Math.Abs(expected[r] - shadow.Scores[0]) <= 2e-6 + (2e-6 * expected[r]), $"row {r}: XGBoost {expected[r]}, ONNX shadow {shadow.Scores[0]}");
        }

        // Replay: the ONNX candidate scored offline on the logged traffic.
        using var output = new StringWriter();
        using var error = new StringWriter();
        var replayed = new FileInfo(Path.Combine(folder.FullName, "replay.csv"));
        var replay = new ReplayCli(account.PredictionLog(), account.Outcomes(), account.FeatureStore(), new RegisteredManifests(registry, artifacts), TimeProvider.System, output, error);
        Assert.True(0 == await replay.RunAsync(model, new FileInfo(Path.Combine(Fixture, "model.onnx")), onnxManifest, from, DateTimeOffset.UtcNow.AddMinutes(1), replayed, deadline.Token), error.ToString());
        var byId = ids.Select((id, r) => (id, r)).ToDictionary(p => p.id, p => p.r);
        var replayRows = DemoSystem.Csv(replayed);
        Assert.Equal(rows.Length, replayRows.Count);
        foreach (var row in replayRows)
        {
            var r = byId[row["prediction_id"]];
            Assert.True(Math.Abs(expected[r] - double.Parse(row["candidate_score"], CultureInfo.InvariantCulture)) <= 2e-6 + (2e-6 * expected[r]), $"row {r}: replayed {row["candidate_score"]}");
        }

        // Promoted (forced from the shadow): ONNX Runtime answers.
        Assert.Equal(0, await models.MoveAsync(new LadderCommand.Promote(model, "2", Force: true), actor, deadline.Token));
        for (var r = 0; ; r = (r + 1) % rows.Length)
        {
            var answer = await PredictAsync(client, model, rows[r], deadline.Token);
            if (answer.GetProperty("version").GetString() != "2")
            {
                await Task.Delay(100, deadline.Token); // until the instance's next registry poll
                continue;
            }

            Assert.Equal("champion", answer.GetProperty("arm").GetString());
            Assert.True(Math.Abs(expected[r] - answer.GetProperty("score").GetDouble()) <= 2e-6 + (2e-6 * expected[r]), $"row {r}: XGBoost {expected[r]}, ONNX champion {answer.GetProperty("score").GetDouble()}");
            break;
        }
    }

    /// <summary>A manifest of <paramref name="count"/> request-only numbers, x0 … x{count − 1}, missing when not sent.</summary>
    private FileInfo Manifest(string model, string? format, int count)
    {
        var manifest = new JsonObject
        {
            ["name"] = model,
            ["output"] = "probability",
            ["features"] = new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject { ["name"] = $"x{i}" })]),
        };
        if (format is not null)
        {
            manifest["format"] = format;
        }

        var file = new FileInfo(Path.Combine(folder.FullName, $"manifest-{format ?? "detected"}.json"));
        File.WriteAllText(file.FullName, manifest.ToJsonString());
        return file;
    }

    private static async Task<JsonElement> PredictAsync(HttpClient client, string model, double?[] row, CancellationToken cancellationToken)
    {
        var features = new JsonObject();
        for (var i = 0; i < row.Length; i++)
        {
            if (row[i] is { } value)
            {
                features[$"x{i}"] = value; // a missing value is not sent
            }
        }

        using var response = await client.PostAsJsonAsync($"/api/predict/{model}", new JsonObject { ["features"] = features }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
