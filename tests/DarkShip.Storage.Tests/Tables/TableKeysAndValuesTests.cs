using Azure.Data.Tables;
using DarkShip.Storage.Tables;

namespace DarkShip.Storage.Tests.Tables;

public sealed class TableKeysAndValuesTests
{
    [Fact]
    public void QueryFilter_StringArgument_IsQuotedWithQuotesDoubled()
    {
        var hostile = "x' or PartitionKey ne 'y";

        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {hostile}");

        Assert.Equal("PartitionKey eq 'x'' or PartitionKey ne ''y'", filter);
    }

    [Fact]
    public void Get_MissingOrOtherType_IsDefault_Number_ReadsEveryNumericType()
    {
        var entity = new TableEntity("p", "r") { ["s"] = "text", ["d"] = 1.5, ["i"] = 3, ["l"] = 4L };

        Assert.Equal("text", entity.Get<string>("s"));
        Assert.Null(entity.Get<string>("d"));
        Assert.Equal(0, entity.Get<double>("missing"));
        Assert.Equal([1.5, 3, 4], new[] { entity.Number("d"), entity.Number("i"), entity.Number("l") });
        Assert.True(double.IsNaN(entity.Number("missing")));
    }

    [Fact]
    public void ForWrite_NothingToChange_IsTheSameEntity_ElseACopyWithoutNullsOrReadOnlyProperties()
    {
        var plain = new TableEntity("p", "r") { ["d"] = 1.5 };
        var read = new TableEntity("p", "r") { ["d"] = double.NaN, ["gone"] = null, ["odata.etag"] = "W/\"1\"", ["Timestamp"] = DateTimeOffset.UnixEpoch };

        var copy = TableValues.ForWrite(read);

        Assert.Same(plain, TableValues.ForWrite(plain));
        Assert.Equal("NaN", copy["d"]);
        Assert.Equal("Edm.Double", copy["d@odata.type"]);
        Assert.False(copy.ContainsKey("gone") || copy.ContainsKey("Timestamp"));
        Assert.Equal(read.ETag, copy.ETag);
        Assert.Equal(double.NaN, read["d"]);
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
