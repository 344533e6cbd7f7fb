using DarkShip.Serving.Mirror;

namespace DarkShip.Serving.Tests.Mirror;

public sealed class MirrorEventJsonTests
{
    [Fact]
    public void Serialize_ThenDeserialize_GivesTheSameEvent()
    {
        var e = new MirrorEvent(
            "01M82QWT8X3ZDT3YZDPTR3GEB5", "fraud", ServingHarness.Start, "r-1",
            new Dictionary<string, string> { ["consumer"] = "c1" }, "c1",
            new Dictionary<string, MirroredGroup>
            {
                ["consumer"] = new("found", ServingHarness.Start.AddHours(-1), 3600, new Dictionary<string, object> { ["n"] = 1.5, ["v"] = true, ["cat"] = "x" }),
                ["store"] = new("timedOut", null, null, null),
            },
            new Dictionary<string, object> { ["amount"] = 250.0 },
            [KeyValuePair.Create("amount", 250f), KeyValuePair.Create("tiny", 1.1754944E-38f), KeyValuePair.Create("gone", float.NaN)],
            ["store:timedOut"],
            [new MirroredOutput("2", "experiment", [0.123456789f], "approve", true), new MirroredOutput("1", "champion", [0.2f], "approve", false)],
            1.25, 2.5);

        var back = MirrorEventJson.Deserialize(MirrorEventJson.Serialize(e));

        Assert.Equal((e.PredictionId, e.Model, e.Timestamp, e.RequestId, e.PartitionKey), (back.PredictionId, back.Model, back.Timestamp, back.RequestId, back.PartitionKey));
        Assert.Equal(e.Entities, back.Entities);
        Assert.Equal(e.Groups["consumer"].Values, back.Groups["consumer"].Values);
        Assert.Equal(e.Groups["consumer"].AsOf, back.Groups["consumer"].AsOf);
        Assert.Null(back.Groups["store"].Values);
        Assert.Equal(e.Features, back.Features); // floats round-trip bit for bit; NaN stays missing
        Assert.Equal(e.Outputs.Select(o => (o.Version, o.Arm, o.Scores[0], o.Decision, o.Served)), back.Outputs.Select(o => (o.Version, o.Arm, o.Scores[0], o.Decision, o.Served)));
        Assert.Equal(e.Degraded, back.Degraded);
    }

    [Fact]
    public void Deserialize_OtherSchema_IsAFormatError()
    {
        var newer = Assert.Throws<UnsupportedSchemaException>(() => MirrorEventJson.Deserialize("{\"schema\":2}"u8));
        Assert.IsAssignableFrom<FormatException>(newer); // a reader that only knows FormatException still refuses it
        Assert.Equal(2, newer.Schema); // and Capture's reader counts it apart from what is not an event at all
        Assert.Throws<FormatException>(() => MirrorEventJson.Deserialize("[1]"u8));
    }
}
