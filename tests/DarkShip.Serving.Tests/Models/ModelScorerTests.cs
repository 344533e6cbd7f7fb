using DarkShip.Scoring;
using DarkShip.Serving.Models;
using DarkShip.Serving.Predictions;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace DarkShip.Serving.Tests.Models;

public sealed class ModelScorerTests
{
    private readonly ServingHarness harness = new();
    private readonly RecordingLogger<ModelScorer> logger = new();

    private async Task<LoadedModel> ModelAsync(Func<IModel, IModel> wrap)
    {
        harness.SeedEntities();
        await harness.RegisterAsync("1", ModelStage.Champion);
        await harness.Cache.RefreshAsync();
        var champion = harness.Cache.Find("fraud")!.Champion!;
        return champion with { Model = wrap(champion.Model) };
    }

    [Fact]
    public async Task Score_ModelThrows_ReturnsTheFailure_AndLogsAWarningWithTheException()
    {
        var model = await ModelAsync(m => new Faulty(m, _ => throw new InvalidOperationException("model bug")));
        var scorer = new ModelScorer(harness.Time, logger);

        var result = scorer.Score(model, new float[model.Model.FeatureCount], new float[1]);

        Assert.Equal(ScoreStatus.Threw, result.Status);
        var record = Assert.Single(logger.Records);
        Assert.Equal((LogLevel.Warning, "ModelScoringFailed"), (record.Level, record.EventId.Name));
        Assert.Equal("model bug", record.Exception?.Message);
        Assert.Contains("fraud version 1 (Champion) could not score: Threw", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_RepeatedFailures_AreLoggedOnceAMinute_WithTheCountInBetween()
    {
        var model = await ModelAsync(m => new Faulty(m, o => o.Fill(float.NaN)));
        var scorer = new ModelScorer(harness.Time, logger);
        var input = new float[model.Model.FeatureCount];

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(ScoreStatus.NonFinite, scorer.Score(model, input, new float[1]).Status);
        }

        harness.Time.Advance(ModelScorer.LogInterval);
        scorer.Score(model, input, new float[1]);

        Assert.Equal(2, logger.Records.Count);
        Assert.Contains("(49 more failures since the last report)", logger.Records[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_Healthy_LogsNothing()
    {
        var model = await ModelAsync(m => m);
        var scorer = new ModelScorer(harness.Time, logger);

        Assert.True(scorer.Score(model, new float[model.Model.FeatureCount], new float[1]).Succeeded);
        Assert.True((await scorer.ScoreWithinAsync(model, new float[model.Model.FeatureCount], new float[1], TimeSpan.FromSeconds(10), CancellationToken.None)).Succeeded);
        Assert.Empty(logger.Records);
    }

    [Fact]
    public async Task Predict_ChampionThatCannotScore_AnswersUnavailable_AndTheFailureIsLogged()
    {
        var broken = await ModelAsync(m => new Faulty(m, _ => throw new InvalidOperationException("corrupt tree")));
        var lineups = new FixedLineups(new ModelLineup("fraud", broken, null, []));
        var service = new PredictionService(lineups, new FeatureReader(harness.Store, harness.Time, harness.Options, NullLogger<FeatureReader>.Instance),
            new ModelScorer(harness.Time, logger), harness.Mirror, harness.Log, harness.Time, harness.Options, NullLogger<PredictionService>.Instance);

        var outcome = await service.PredictAsync("fraud", ServingHarness.Request());

        Assert.IsType<PredictOutcome.Unavailable>(outcome);
        Assert.Equal("corrupt tree", Assert.Single(logger.Records).Exception?.Message);
        Assert.Empty(harness.Mirror.Events);
    }

    private sealed class Faulty(IModel inner, Action<Span<float>> fault) : IModel
    {
        public int FeatureCount => inner.FeatureCount;

        public IReadOnlyList<string> FeatureNames => inner.FeatureNames;

        public int GetOutputCount(OutputKind kind) => inner.GetOutputCount(kind);

        public void Predict(ReadOnlySpan<float> features, Span<float> output, OutputKind kind = OutputKind.Transformed) => fault(output);

        public void PredictBatch(ReadOnlySpan<float> rows, Span<float> output, OutputKind kind = OutputKind.Transformed) => throw new NotSupportedException();
    }
}
