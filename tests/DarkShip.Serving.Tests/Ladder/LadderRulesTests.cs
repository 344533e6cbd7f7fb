using DarkShip.Serving.Ladder;
using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Tests.Ladder;

public class LadderRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    internal static ModelVersion V(string version, ModelStage stage, double share = 0, DateTimeOffset? changedAt = null, ModelStage? previous = null) =>
        new("fraud", version, stage, share, $"fraud/{version}/model.json", "a", $"fraud/{version}/manifest.json", "b", Now.AddDays(-10), "e" + version)
        {
            ChangedAt = changedAt ?? Now.AddDays(-5),
            PreviousStage = previous,
        };

    [Fact]
    public void Shadow_FromRegistered_MovesToShadowAtTheShare_RecordingWhenAndFromWhere()
    {
        var (plan, refusal) = LadderRules.Plan([V("1", ModelStage.Champion, 100), V("2", ModelStage.Registered)], new LadderCommand.Shadow("fraud", "2", 1), Now);

        Assert.Null(refusal);
        var (before, after) = Assert.Single(plan!.Changes);
        Assert.Equal(ModelStage.Registered, before.Stage);
        Assert.Equal((ModelStage.Shadow, 1.0, Now, ModelStage.Registered), (after.Stage, after.SharePercent, after.ChangedAt, after.PreviousStage));
        Assert.Equal("e2", after.ETag); // written only if the row is still as read
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(100.5)]
    public void Shadow_ShareOutOfRange_IsRefused(double share)
    {
        var (plan, refusal) = LadderRules.Plan([V("2", ModelStage.Registered)], new LadderCommand.Shadow("fraud", "2", share), Now);

        Assert.Null(plan);
        Assert.Contains("shadow share", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Shadow_OfTheChampion_IsRefusedWithTheWayOut()
    {
        var (_, refusal) = LadderRules.Plan([V("1", ModelStage.Champion, 100)], new LadderCommand.Shadow("fraud", "1", 10), Now);

        Assert.Contains("is the champion; promote another version or roll back", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Shadow_AtTheShareItAlreadyHas_IsRefused_SoARepeatIsNotASecondTransition()
    {
        var (_, refusal) = LadderRules.Plan([V("1", ModelStage.Champion, 100), V("2", ModelStage.Shadow, 10)], new LadderCommand.Shadow("fraud", "2", 10), Now);

        Assert.Contains("already shadows 10 %", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Experiment_FromRegistered_IsRefused_ShadowFirst()
    {
        var (_, refusal) = LadderRules.Plan([V("1", ModelStage.Champion, 100), V("2", ModelStage.Registered)], new LadderCommand.Experiment("fraud", "2", 10), Now);

        Assert.Contains("only a shadow version can enter an experiment", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Experiment_WhileAnotherRuns_IsRefusedNamingIt()
    {
        var versions = new[] { V("1", ModelStage.Champion, 100), V("2", ModelStage.Experiment, 10), V("3", ModelStage.Shadow, 100) };

        var (_, refusal) = LadderRules.Plan(versions, new LadderCommand.Experiment("fraud", "3", 10), Now);

        Assert.Contains("version 2 is already in an experiment", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Experiment_AtAHundredPercent_IsRefused_ThatIsAPromotion()
    {
        var (_, refusal) = LadderRules.Plan([V("1", ModelStage.Champion, 100), V("2", ModelStage.Shadow, 100)], new LadderCommand.Experiment("fraud", "2", 100), Now);

        Assert.Contains("100 % is a promotion", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Promote_Experiment_BecomesChampion_AndTheOldChampionRetiresInTheSameChange()
    {
        var (plan, _) = LadderRules.Plan([V("1", ModelStage.Champion, 100), V("2", ModelStage.Experiment, 10)], new LadderCommand.Promote("fraud", "2"), Now);

        Assert.Equal(2, plan!.Changes.Count);
        var promoted = plan.Changes.Single(c => c.After.Version == "2").After;
        var retired = plan.Changes.Single(c => c.After.Version == "1").After;
        Assert.Equal((ModelStage.Champion, 100.0, ModelStage.Experiment), (promoted.Stage, promoted.SharePercent, promoted.PreviousStage));
        Assert.Equal((ModelStage.Retired, 0.0, ModelStage.Champion), (retired.Stage, retired.SharePercent, retired.PreviousStage));
    }

    [Fact]
    public void Promote_Shadow_NeedsAnExperimentOrForce()
    {
        var versions = new[] { V("1", ModelStage.Champion, 100), V("2", ModelStage.Shadow, 100) };

        var (refusedPlan, refusal) = LadderRules.Plan(versions, new LadderCommand.Promote("fraud", "2"), Now);
        var (forcedPlan, _) = LadderRules.Plan(versions, new LadderCommand.Promote("fraud", "2", Force: true), Now);

        Assert.Null(refusedPlan);
        Assert.Contains("must win an experiment first (or promote with --force)", refusal, StringComparison.Ordinal);
        Assert.Equal(2, forcedPlan!.Changes.Count);
    }

    [Fact]
    public void Promote_Registered_IsAllowedOnlyWhileTheModelHasNoChampion()
    {
        var (first, _) = LadderRules.Plan([V("1", ModelStage.Registered)], new LadderCommand.Promote("fraud", "1"), Now);
        var (_, refusal) = LadderRules.Plan([V("1", ModelStage.Champion, 100), V("2", ModelStage.Registered)], new LadderCommand.Promote("fraud", "2", Force: true), Now);

        Assert.Equal(ModelStage.Champion, Assert.Single(first!.Changes).After.Stage);
        Assert.Contains("is Registered", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Rollback_OfTheChampion_RestoresTheMostRecentlyRetiredChampion_InOneStep()
    {
        var versions = new[]
        {
            V("1", ModelStage.Retired, changedAt: Now.AddDays(-30), previous: ModelStage.Champion),
            V("2", ModelStage.Retired, changedAt: Now.AddDays(-1), previous: ModelStage.Champion),
            V("3", ModelStage.Retired, changedAt: Now.AddHours(-1), previous: ModelStage.Shadow), // never a champion
            V("4", ModelStage.Champion, 100, changedAt: Now.AddDays(-1), previous: ModelStage.Experiment),
        };

        var (plan, _) = LadderRules.Plan(versions, new LadderCommand.Rollback("fraud"), Now);

        Assert.Equal(
            [("2", ModelStage.Champion), ("4", ModelStage.RolledBack)],
            plan!.Changes.Select(c => (c.After.Version, c.After.Stage)).Order());
    }

    [Fact]
    public void Rollback_WithNoEarlierChampion_IsRefused()
    {
        var (_, refusal) = LadderRules.Plan([V("1", ModelStage.Champion, 100)], new LadderCommand.Rollback("fraud"), Now);

        Assert.Contains("no earlier champion is retired to return to", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Rollback_OfAnExperiment_TakesItOffTheLadder_ChampionUntouched()
    {
        var (plan, _) = LadderRules.Plan([V("1", ModelStage.Champion, 100), V("2", ModelStage.Experiment, 10)], new LadderCommand.Rollback("fraud", "2"), Now);

        var (_, after) = Assert.Single(plan!.Changes);
        Assert.Equal(("2", ModelStage.RolledBack, 0.0), (after.Version, after.Stage, after.SharePercent));
    }

    [Fact]
    public void Retire_TheChampion_IsRefused_AndAnUnknownVersionIsNamed()
    {
        var (_, champion) = LadderRules.Plan([V("1", ModelStage.Champion, 100)], new LadderCommand.Retire("fraud", "1"), Now);
        var (_, unknown) = LadderRules.Plan([V("1", ModelStage.Champion, 100)], new LadderCommand.Retire("fraud", "9"), Now);

        Assert.Contains("is the champion", champion, StringComparison.Ordinal);
        Assert.Equal("fraud has no version 9.", unknown);
    }
}
