using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Tests.Tables;

public sealed class ODataFilterTests
{
    [Fact]
    public void Create_StringArgument_IsQuotedWithQuotesDoubled()
    {
        var hostile = "x' or PartitionKey ne 'y";

        var filter = ODataFilter.Create($"PartitionKey eq {hostile}");

        Assert.Equal("PartitionKey eq 'x'' or PartitionKey ne ''y'", filter);
    }

    [Fact]
    public void Create_TypedArguments_UseODataLiteralForms()
    {
        var when = new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.FromHours(1));
        var id = Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff");

        var filter = ODataFilter.Create($"a eq {42} and b eq {42L} and c eq {1.5} and d eq {2.0} and e eq {true} and f ge {when} and g eq {id} and h eq {new byte[] { 1, 171 }}");

        Assert.Equal("a eq 42 and b eq 42L and c eq 1.5 and d eq 2.0 and e eq true and f ge datetime'2026-11-22T07:00:00.0000000Z' and g eq guid'6f9619ff-8b86-d011-b42d-00c04fc964ff' and h eq X'01AB'", filter);
    }

    [Fact]
    public void Create_UnsupportedOrNullArgument_Throws()
    {
        Assert.Throws<ArgumentException>(() => ODataFilter.Create($"a eq {new object()}"));
        Assert.Throws<ArgumentException>(() => ODataFilter.Create($"a eq {(string?)null}"));
        Assert.Throws<ArgumentException>(() => ODataFilter.Create($"a eq {double.NaN}"));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("a\u0000b")]
    [InlineData("a\u007Fb")]
    [InlineData("a\u0085b")]
    public void Validate_ForbiddenCharacter_Throws(string key)
    {
        Assert.Throws<ArgumentException>(() => TableKeys.Validate(key, "key"));
    }

    [Fact]
    public void Validate_LengthLimit_IsOneKibibyteOfUtf16()
    {
        TableKeys.Validate(new string('k', 512), "key");

        Assert.Throws<ArgumentException>(() => TableKeys.Validate(new string('k', 513), "key"));
    }
}
