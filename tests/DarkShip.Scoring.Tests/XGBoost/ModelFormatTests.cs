using System.Text;
using System.Text.Json.Nodes;
using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Tests.XGBoost;

public sealed class ModelFormatTests
{
    private static readonly string Gbtree = File.ReadAllText(ParityFixture.Load("binary_logistic_gbtree").ModelPath);
    private static readonly string Dart = File.ReadAllText(ParityFixture.Load("binary_logistic_dart").ModelPath);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"learner\": 5}")]
    [InlineData("{\"learner\": {}}")]
    public void Parse_NotAModel_ThrowsModelFormatException(string text)
    {
        var e = Assert.Throws<ModelFormatException>(() => XGBoostModelReader.Parse(Encoding.UTF8.GetBytes(text)));

        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Fact]
    public void Parse_TruncatedAnywhere_ThrowsModelFormatExceptionNeverAnotherException()
    {
        var bytes = Encoding.UTF8.GetBytes(Gbtree);
        var cuts = Enumerable.Range(1, 200).Select(i => (int)((long)bytes.Length * i / 201)).Distinct();

        foreach (var cut in cuts)
        {
            Assert.Throws<ModelFormatException>(() => XGBoostModelReader.Parse(bytes.AsSpan(0, cut)));
        }
    }

    [Fact]
    public void Parse_TrailingContent_Throws()
    {
        var e = Assert.Throws<ModelFormatException>(() => XGBoostModelReader.Parse(Encoding.UTF8.GetBytes(Gbtree + " {}")));

        Assert.Contains("after", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_NamesThePath()
    {
        var e = Assert.Throws<ModelFormatException>(() => XGBoostModelReader.Load("/nonexistent/model.json"));

        Assert.Contains("/nonexistent/model.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("objective", "unknown:thing", "objective 'unknown:thing' is not supported")]
    [InlineData("booster", "gbforest", "booster 'gbforest' is not supported")]
    public void Parse_UnsupportedObjectiveOrBooster_NamesIt(string what, string value, string expected)
    {
        var model = Mutable(Gbtree);
        if (what == "objective")
        {
            model["learner"]!["objective"]!["name"] = value;
        }
        else
        {
            model["learner"]!["gradient_booster"]!["name"] = value;
        }

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CategoricalSplit_IsRefusedWithAClearReason()
    {
        var model = Mutable(Gbtree);
        var tree = Tree(model, 3);
        tree["split_type"]![0] = 1;
        tree["categories"] = new JsonArray(1, 2);
        tree["categories_nodes"] = new JsonArray(0);
        tree["categories_segments"] = new JsonArray(0);
        tree["categories_sizes"] = new JsonArray(2);

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("trees[3] has categorical splits", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_VectorLeaves_AreRefused()
    {
        var model = Mutable(Gbtree);
        model["learner"]!["gradient_booster"]!["model"]!["gbtree_model_param"]!["size_leaf_vector"] = "3";

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("vector leaves", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SplitOnFeatureBeyondNumFeature_Throws()
    {
        var model = Mutable(Gbtree);
        Tree(model, 0)["split_indices"]![0] = 30;

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("splits on feature 30, but num_feature is 30", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ChildOutOfRange_NamesTreeAndNode()
    {
        var model = Mutable(Gbtree);
        Tree(model, 2)["left_children"]![0] = 999;

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("tree 2 node 0 has a child out of range", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CycleInTree_IsDetected()
    {
        var model = Mutable(Gbtree);
        Tree(model, 1)["right_children"]![0] = 0;

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("tree 1 reaches node 0 twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ArraysOfDifferentLengths_Throws()
    {
        var model = Mutable(Gbtree);
        ((JsonArray)Tree(model, 4)["split_conditions"]!).RemoveAt(0);

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("tree 4 has arrays of different lengths", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WrongValueType_NamesThePath()
    {
        var model = Mutable(Gbtree);
        Tree(model, 0)["left_children"]![0] = "one";

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("trees[0].left_children", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TreeInfoShorterThanTrees_Throws()
    {
        var model = Mutable(Gbtree);
        ((JsonArray)model["learner"]!["gradient_booster"]!["model"]!["tree_info"]!).RemoveAt(0);

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("tree_info has 29 entries for 30 trees", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DartWithWrongWeightCount_Throws()
    {
        var model = Mutable(Dart);
        ((JsonArray)model["learner"]!["gradient_booster"]!["weight_drop"]!).RemoveAt(0);

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("weight_drop has 19 weights for 20 trees", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("num_feature", "0")]
    [InlineData("num_feature", "-3")]
    [InlineData("num_feature", "many")]
    [InlineData("base_score", "abc")]
    public void Parse_BadLearnerParameter_Throws(string name, string value)
    {
        var model = Mutable(Gbtree);
        model["learner"]!["learner_model_param"]![name] = value;

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains(name == "num_feature" ? "num_feature" : "base_score", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LogisticBaseScoreOutsideZeroOne_Throws()
    {
        var model = Mutable(Gbtree);
        model["learner"]!["learner_model_param"]!["base_score"] = "1.5";

        var e = Assert.Throws<ModelFormatException>(() => Parse(model));

        Assert.Contains("base_score must lie in (0, 1)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_VectorBaseScore_AsXGBoost3WritesIt_IsAccepted()
    {
        var model = Mutable(Gbtree);
        model["learner"]!["learner_model_param"]!["base_score"] = "[5E-1]";
        var fixture = ParityFixture.Load("binary_logistic_gbtree");
        var output = new float[1];

        Parse(model).Predict(fixture.Rows[0], output);

        ParityTests.AssertClose(fixture.Transformed[0], output, "vector base_score");
    }

    [Fact]
    public void Predict_WrongFeatureCount_ThrowsClearError()
    {
        var model = XGBoostModelReader.Parse(Encoding.UTF8.GetBytes(Gbtree));

        var e = Assert.Throws<ArgumentException>(() => model.Predict(new float[29], new float[1]));

        Assert.Contains("The model takes 30 features; the row has 29.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictBatch_PartialRow_ThrowsClearError()
    {
        var model = XGBoostModelReader.Parse(Encoding.UTF8.GetBytes(Gbtree));

        var e = Assert.Throws<ArgumentException>(() => model.PredictBatch(new float[61], new float[3]));

        Assert.Contains("not a whole number of 30-feature rows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Predict_OutputTooSmall_ThrowsClearError()
    {
        var model = XGBoostModelReader.Load(ParityFixture.Load("multi_softprob_iris").ModelPath);

        Assert.Throws<ArgumentException>(() => model.Predict(new float[4], new float[2]));
    }

    [Fact]
    public void Load_ReportsShapeOfTheModel()
    {
        var model = XGBoostModelReader.Load(ParityFixture.Load("multi_softmax_digits").ModelPath);

        Assert.Equal("gbtree", model.Booster);
        Assert.Equal("multi:softmax", model.ObjectiveName);
        Assert.Equal(64, model.FeatureCount);
        Assert.Equal(10, model.GroupCount);
        Assert.Equal(150, model.TreeCount);
        Assert.Equal(10, model.GetOutputCount(OutputKind.Margin));
        Assert.Equal(1, model.GetOutputCount(OutputKind.Transformed));
    }

    private static JsonNode Mutable(string json) => JsonNode.Parse(json)!;

    private static JsonNode Tree(JsonNode model, int index) =>
        model["learner"]!["gradient_booster"]!["model"]!["trees"]![index]!;

    private static XGBoostModel Parse(JsonNode model) =>
        XGBoostModelReader.Parse(Encoding.UTF8.GetBytes(model.ToJsonString()));
}
