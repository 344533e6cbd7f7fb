namespace DarkShip.Scoring.Linear;

/// <summary>
/// XGBoost's gblinear: per output group, a bias plus one weight per feature. A missing feature
/// contributes nothing, as in XGBoost's sparse evaluation.
/// </summary>
internal sealed class LinearBooster
{
    // Layout as XGBoost saves it: weights[feature * groups + group], biases in the last row.
    private readonly float[] weights;
    private readonly int featureCount;

    public LinearBooster(float[] weights, int featureCount, int groupCount)
    {
        if (weights.Length != (featureCount + 1) * groupCount)
        {
            throw new ModelFormatException(
                $"gblinear has {weights.Length} weights; (num_feature + 1) × groups = ({featureCount} + 1) × {groupCount} = {(featureCount + 1) * groupCount} expected");
        }

        this.weights = weights;
        this.featureCount = featureCount;
        GroupCount = groupCount;
    }

    public int GroupCount { get; }

    /// <summary>Replaces each margin (holding the base margin) with bias + base + Σ xᵢwᵢ, summed in XGBoost's order.</summary>
    public void Accumulate(ReadOnlySpan<float> row, Span<float> margins)
    {
        var groups = GroupCount;
        var biasRow = featureCount * groups;
        for (var g = 0; g < groups; g++)
        {
            var sum = weights[biasRow + g] + margins[g];
            for (var f = 0; f < row.Length; f++)
            {
                var x = row[f];
                if (!float.IsNaN(x))
                {
                    sum += x * weights[(f * groups) + g];
                }
            }

            margins[g] = sum;
        }
    }
}
