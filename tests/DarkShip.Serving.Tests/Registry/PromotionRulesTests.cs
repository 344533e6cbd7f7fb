using DarkShip.Serving.Registry;

namespace DarkShip.Serving.Tests.Registry;

public class PromotionRulesTests
{
    [Fact]
    public void StoredValues_RoundTrip_AndUnsetOnesKeepTheirDefaults()
    {
        var rules = PromotionRules.Parse(new Dictionary<string, string> { ["minSamples"] = "5000", ["shadowRamp"] = "5, 25, 100" });

        Assert.Equal((5000L, 0.01), (rules.MinSamples, rules.MaxErrorRate));
        Assert.Equal([5.0, 25, 100], rules.ShadowRamp);
        Assert.Equal(rules.ToValues(), PromotionRules.Parse(rules.ToValues()).ToValues());
    }

    [Theory]
    [InlineData("minSamples", "0", "a whole number of at least 1")]
    [InlineData("shadowRamp", "10,5,100", "increasing shares")]
    [InlineData("shadowRamp", "1,10", "ending at 100")]
    [InlineData("experimentShare", "100", "below 100")]
    [InlineData("maxErrorRate", "2", "from 0 to 1")]
    [InlineData("enabled", "yes", "true or false")]
    [InlineData("minSample", "5", "is not a promotion rule")]
    public void BadValues_AreRefusedSayingWhatIsExpected(string name, string value, string expected)
    {
        var e = Assert.Throws<FormatException>(() => PromotionRules.Default.With(name, value));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
