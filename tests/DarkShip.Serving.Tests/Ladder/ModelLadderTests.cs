using DarkShip.Serving.Ladder;
using DarkShip.Serving.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Serving.Tests.Ladder;

public class ModelLadderTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
    private readonly InMemoryModelRegistry registry = new();
    private readonly InMemoryModelEventLog audit = new();

    private ModelLadder Ladder => new(registry, audit, time, NullLogger<ModelLadder>.Instance);

    private static ModelVersion New(string version) =>
        new("fraud", version, ModelStage.Champion, 100, $"fraud/{version}/model.json", "a", $"fraud/{version}/manifest.json", "b", DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Register_AddsARegisteredVersionWithItsAuditEvent_AndRefusesTheSameVersionAgain()
    {
        var actor = new LadderActor("ana@laptop", "new fraud model");

        var first = await Ladder.RegisterAsync(New("1"), actor);
        var again = await Ladder.RegisterAsync(New("1"), actor);

        var stored = Assert.Single((await registry.ReadIfChangedAsync(null))!.Versions);
        Assert.Equal((ModelStage.Registered, 0.0, time.GetUtcNow()), (stored.Stage, stored.SharePercent, stored.RegisteredAt)); // whatever the caller passed
        var e = Assert.Single(((LadderOutcome.Changed)first).Events);
        Assert.Equal(("register", (ModelStage?)null, ModelStage.Registered, "ana@laptop"), (e.Action, e.From, e.To, e.Actor));
        Assert.Contains("already registered", Assert.IsType<LadderOutcome.Refused>(again).Reason, StringComparison.Ordinal);
        Assert.Single(await audit.ReadAsync("fraud"));
    }

    [Fact]
    public async Task Apply_WritesTheMoveAndAnAuditRowWithWhoWhenWhyAndEvidence()
    {
        await Ladder.RegisterAsync(New("1"), new LadderActor("ana", "x"));
        time.Advance(TimeSpan.FromMinutes(5));

        var outcome = await Ladder.ApplyAsync(new LadderCommand.Shadow("fraud", "1", 1), new LadderActor("ana", "try it", new Dictionary<string, string> { ["ticket"] = "FR-12" }));

        var e = Assert.Single(((LadderOutcome.Changed)outcome).Events);
        Assert.Equal(("1", "shadow", ModelStage.Registered, ModelStage.Shadow, 0.0, 1.0, "try it", time.GetUtcNow()), (e.Version, e.Action, e.From, e.To, e.FromShare, e.ToShare, e.Reason, e.At));
        Assert.Equal("FR-12", e.Evidence["ticket"]);
        Assert.Equal(2, (await audit.ReadAsync("fraud")).Count);
        Assert.Equal(ModelStage.Shadow, Assert.Single((await registry.ReadIfChangedAsync(null))!.Versions).Stage);
    }

    [Fact]
    public async Task TwoConcurrentChanges_FromTheSameRead_ExactlyOneWins_TheOtherGetsAConflictAndWritesNothing()
    {
        await Ladder.RegisterAsync(New("1"), new LadderActor("seed", "x"));
        await Ladder.ApplyAsync(new LadderCommand.Promote("fraud", "1"), new LadderActor("seed", "x"));
        await Ladder.RegisterAsync(New("2"), new LadderActor("seed", "x"));
        await Ladder.ApplyAsync(new LadderCommand.Shadow("fraud", "2", 100), new LadderActor("seed", "x"));
        await Ladder.ApplyAsync(new LadderCommand.Experiment("fraud", "2", 10), new LadderActor("seed", "x"));
        var read = (await registry.ReadIfChangedAsync(null))!.Of("fraud");
        var before = (await audit.ReadAsync("fraud")).Count;

        var outcomes = await Task.WhenAll(
            Ladder.ApplyAsync(new LadderCommand.Promote("fraud", "2"), read, new LadderActor("ana", "ship it")),
            Ladder.ApplyAsync(new LadderCommand.Rollback("fraud", "2"), read, new LadderActor("bo", "pull it")));

        Assert.Single(outcomes, o => o is LadderOutcome.Changed);
        var conflict = Assert.Single(outcomes.OfType<LadderOutcome.Conflict>());
        Assert.Contains("changed since it was read", conflict.Reason, StringComparison.Ordinal);
        var events = await audit.ReadAsync("fraud");
        Assert.Equal(before + ((LadderOutcome.Changed)outcomes.Single(o => o is LadderOutcome.Changed)).Events.Count, events.Count);
    }

    [Fact]
    public async Task IllegalMove_IsRefused_AndNothingIsWritten()
    {
        await Ladder.RegisterAsync(New("1"), new LadderActor("seed", "x"));
        var revision = (await registry.ReadIfChangedAsync(null))!.Revision;

        var outcome = await Ladder.ApplyAsync(new LadderCommand.Experiment("fraud", "1", 10), new LadderActor("ana", "skip ahead"));

        Assert.IsType<LadderOutcome.Refused>(outcome);
        Assert.Null(await registry.ReadIfChangedAsync(revision));
        Assert.Single(await audit.ReadAsync("fraud"));
    }
}
