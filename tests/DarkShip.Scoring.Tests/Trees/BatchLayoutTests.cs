using System.Text;
using System.Text.Json.Nodes;
using DarkShip.Scoring.Tests.XGBoost;
using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Tests.Trees;

/// <summary>
/// Rows descend a branch-free copy of each tree (mirrored comparisons for default-left nodes,
/// padding to a complete tree). These tests hold single-row and batch scoring to a plain walk of
/// the JSON by XGBoost's rule, on exactly the values where a mirrored comparison could differ:
/// the threshold itself, its float neighbours, ±0, ±∞ and NaN.
/// </summary>
public sealed class BatchLayoutTests
{
    private static readonly string Gbtree = File.ReadAllText(ParityFixture.Load("binary_logistic_gbtree").ModelPath);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PredictBatch_ValuesAtAndAroundEveryThreshold_EqualsSingleRowWalk(bool defaultLeft)
    {
        var json = JsonNode.Parse(Gbtree)!;
        foreach (var tree in Trees(json))
        {
            var flags = tree["default_left"]!.AsArray();
            for (var i = 0; i < flags.Count; i++)
            {
                flags[i] = defaultLeft ? 1 : 0;
            }
        }

        AssertBatchEqualsSingle(json.ToJsonString());
    }

    [Fact]
    public void PredictBatch_ThresholdsOfZeroAndInfinityWithBothDefaults_EqualsSingleRowWalk()
    {
        var json = JsonNode.Parse(Gbtree)!;
        // JSON has no ∞: sentinels are swapped for overflowing literals, which read as ±∞.
        const float PlusInfinity = 123456.75f, MinusInfinity = -123456.75f;
        var specials = new[] { 0f, -0f, PlusInfinity, MinusInfinity, float.Epsilon, -float.Epsilon, float.MaxValue };
        var k = 0;
        foreach (var tree in Trees(json))
        {
            var conditions = tree["split_conditions"]!.AsArray();
            var left = tree["left_children"]!.AsArray();
            var flags = tree["default_left"]!.AsArray();
            for (var i = 0; i < conditions.Count; i++)
            {
                if ((int)left[i]! == -1)
                {
                    continue;
                }

                var special = specials[k % specials.Length];
                conditions[i] = special;
                flags[i] = (k / specials.Length) % 2;
                k++;
            }
        }

        var text = json.ToJsonString().Replace("-123456.75", "-1e39", StringComparison.Ordinal).Replace("123456.75", "1e39", StringComparison.Ordinal);
        AssertBatchEqualsSingle(text);
    }

    [Fact]
    public void PredictBatch_StumpTrees_EqualsSingleRowWalk()
    {
        var json = JsonNode.Parse(Gbtree)!;
        var first = Trees(json).First();
        first["left_children"] = new JsonArray(-1);
        first["right_children"] = new JsonArray(-1);
        first["parents"] = new JsonArray(2147483647);
        first["split_indices"] = new JsonArray(0);
        first["split_conditions"] = new JsonArray(0.25f);
        first["default_left"] = new JsonArray(0);
        first["split_type"] = new JsonArray(0);
        first["base_weights"] = new JsonArray(0.25f);
        first["loss_changes"] = new JsonArray(0f);
        first["sum_hessian"] = new JsonArray(1f);
        first["tree_param"]!["num_nodes"] = "1";

        AssertBatchEqualsSingle(json.ToJsonString());
    }

    [Fact]
    public void Predict_RowWiderThanTheStackStagingLimit_StillMatchesTheReferenceWalk()
    {
        // Single rows wider than 1024 features walk the pointer layout instead of a staged copy.
        var json = JsonNode.Parse(Gbtree)!;
        json["learner"]!["learner_model_param"]!["num_feature"] = "1500";

        AssertBatchEqualsSingle(json.ToJsonString());
    }

    private static IEnumerable<JsonNode> Trees(JsonNode model) =>
        model["learner"]!["gradient_booster"]!["model"]!["trees"]!.AsArray().Select(t => t!);

    private static void AssertBatchEqualsSingle(string text)
    {
        var model = XGBoostModelReader.Parse(Encoding.UTF8.GetBytes(text));
        var json = JsonNode.Parse(text.Replace("1e39", "3.4e38", StringComparison.Ordinal))!;
        var rows = ProbeRows(model, json);
        var rowCount = rows.Length / model.FeatureCount;
        var batch = new float[rowCount];
        model.PredictBatch(rows, batch, OutputKind.Margin);

        var single = new float[1];
        for (var r = 0; r < rowCount; r++)
        {
            var row = rows.AsSpan(r * model.FeatureCount, model.FeatureCount);
            model.Predict(row, single, OutputKind.Margin);
            var expected = ReferenceWalk(json, row, text.Contains("1e39", StringComparison.Ordinal));
            Assert.True(
                BitConverter.SingleToInt32Bits(single[0]) == BitConverter.SingleToInt32Bits(batch[r]),
                $"row {r}: batch {batch[r]:R}, single row {single[0]:R}");
            Assert.True(
                Math.Abs(expected - single[0]) <= 1e-5 * Math.Max(1, Math.Abs(expected)),
                $"row {r}: engine {single[0]:R}, reference walk {expected:R}");
        }
    }

    /// <summary>
    /// XGBoost's rule straight from the JSON, node by node: <c>value &lt; threshold</c> goes left, a
    /// missing value follows <c>default_left</c>. Sums leaves in float, as XGBoost does, onto a margin of
    /// 0 (base_score 0.5 under binary:logistic). Thresholds of ±3.4e38 stand for ±∞ when asked.
    /// </summary>
    private static float ReferenceWalk(JsonNode json, ReadOnlySpan<float> row, bool infinities)
    {
        var sum = 0f;
        foreach (var tree in Trees(json))
        {
            var left = tree["left_children"]!.AsArray();
            var right = tree["right_children"]!.AsArray();
            var indices = tree["split_indices"]!.AsArray();
            var conditions = tree["split_conditions"]!.AsArray();
            var defaults = tree["default_left"]!.AsArray();
            var node = 0;
            while ((int)left[node]! != -1)
            {
                var threshold = (float)conditions[node]!;
                if (infinities && Math.Abs(threshold) == 3.4e38f)
                {
                    threshold = threshold > 0 ? float.PositiveInfinity : float.NegativeInfinity;
                }

                var value = row[(int)indices[node]!];
                var goLeft = float.IsNaN(value) ? (int)defaults[node]! == 1 : value < threshold;
                node = goLeft ? (int)left[node]! : (int)right[node]!;
            }

            sum += (float)conditions[node]!;
        }

        return sum;
    }

    /// <summary>For every split: rows that put its feature at the threshold, one float either side, and the specials.</summary>
    private static float[] ProbeRows(XGBoostModel model, JsonNode json)
    {
        var featureCount = model.FeatureCount;
        var values = new List<(int Feature, float Value)>();
        foreach (var tree in Trees(json))
        {
            var conditions = tree["split_conditions"]!.AsArray();
            var indices = tree["split_indices"]!.AsArray();
            var left = tree["left_children"]!.AsArray();
            for (var i = 0; i < conditions.Count; i++)
            {
                if ((int)left[i]! == -1)
                {
                    continue;
                }

                var t = (float)conditions[i]!;
                var f = (int)indices[i]!;
                foreach (var v in new[] { t, MathF.BitDecrement(t), MathF.BitIncrement(t) })
                {
                    values.Add((f, v));
                }
            }
        }

        foreach (var special in new[] { 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.MaxValue, -float.MaxValue })
        {
            for (var f = 0; f < Math.Min(featureCount, 64); f++)
            {
                values.Add((f, special));
            }
        }

        // Each probe row sets one feature and leaves the rest at a pseudo-random mix of values and NaN,
        // so rows take many paths; 8-row lanes and the partial last lane are both exercised.
        var random = new Random(20261122);
        var rows = new float[(values.Count + 3) * featureCount];
        for (var r = 0; r < values.Count + 3; r++)
        {
            for (var f = 0; f < featureCount; f++)
            {
                rows[(r * featureCount) + f] = random.Next(6) == 0 ? float.NaN : (float)((random.NextDouble() * 40) - 10);
            }

            if (r < values.Count)
            {
                rows[(r * featureCount) + values[r].Feature] = values[r].Value;
            }
        }

        return rows;
    }
}
