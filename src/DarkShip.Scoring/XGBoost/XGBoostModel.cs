using System.Buffers;
using DarkShip.Scoring.Linear;
using DarkShip.Scoring.Objectives;
using DarkShip.Scoring.Trees;

namespace DarkShip.Scoring.XGBoost;

/// <summary>
/// An XGBoost model (gbtree, dart or gblinear) compiled for scoring. Load one with
/// <see cref="XGBoostModelReader"/>. Immutable and thread-safe; single-row prediction allocates nothing.
/// </summary>
public sealed class XGBoostModel : IModel
{
    // Stack space for per-row margins; wider models rent from the shared pool.
    private const int StackMargins = 256;

    private readonly TreeEnsemble? trees;
    private readonly LinearBooster? linear;
    private readonly Objective objective;
    private readonly float[] baseMargins;

    internal XGBoostModel(
        string booster,
        string objectiveName,
        int featureCount,
        int groupCount,
        float[] baseMargins,
        IReadOnlyList<string> featureNames,
        TreeEnsemble? trees,
        LinearBooster? linear,
        Objective objective)
    {
        Booster = booster;
        ObjectiveName = objectiveName;
        FeatureCount = featureCount;
        GroupCount = groupCount;
        this.baseMargins = baseMargins;
        FeatureNames = featureNames;
        this.trees = trees;
        this.linear = linear;
        this.objective = objective;
    }

    /// <summary><c>gbtree</c>, <c>dart</c> or <c>gblinear</c>.</summary>
    public string Booster { get; }

    /// <summary>The XGBoost objective, e.g. <c>binary:logistic</c>.</summary>
    public string ObjectiveName { get; }

    /// <inheritdoc />
    public int FeatureCount { get; }

    /// <summary>Output groups of the margin: the class count for multi-class models, else the target count (usually 1).</summary>
    public int GroupCount { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Trees in the model (0 for gblinear).</summary>
    public int TreeCount => trees?.TreeCount ?? 0;

    /// <summary>Split nodes in the compiled forest (0 for gblinear).</summary>
    public int NodeCount => trees?.NodeCount ?? 0;

    /// <inheritdoc />
    public int GetOutputCount(OutputKind kind) =>
        kind == OutputKind.Margin ? GroupCount : objective.TransformedWidth(GroupCount);

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> features, Span<float> output, OutputKind kind = OutputKind.Transformed)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"The model takes {FeatureCount} features; the row has {features.Length}.", nameof(features));
        }

        var width = GetOutputCount(kind);
        if (output.Length < width)
        {
            throw new ArgumentException($"The output needs room for {width} values; it has {output.Length}.", nameof(output));
        }

        float[]? rented = null;
        var margins = GroupCount <= StackMargins
            ? stackalloc float[GroupCount]
            : (rented = ArrayPool<float>.Shared.Rent(GroupCount)).AsSpan(0, GroupCount);
        try
        {
            baseMargins.CopyTo(margins);
            if (trees is not null)
            {
                trees.Accumulate(features, margins);
            }
            else
            {
                linear!.Accumulate(features, margins);
            }

            Finish(margins, output, kind);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <inheritdoc />
    public void PredictBatch(ReadOnlySpan<float> rows, Span<float> output, OutputKind kind = OutputKind.Transformed)
    {
        if (rows.Length % FeatureCount != 0)
        {
            throw new ArgumentException($"The rows hold {rows.Length} values, not a whole number of {FeatureCount}-feature rows.", nameof(rows));
        }

        var rowCount = rows.Length / FeatureCount;
        var width = GetOutputCount(kind);
        if (output.Length < rowCount * width)
        {
            throw new ArgumentException($"The output needs room for {rowCount} × {width} values; it has {output.Length}.", nameof(output));
        }

        if (trees is null)
        {
            for (var r = 0; r < rowCount; r++)
            {
                Predict(rows.Slice(r * FeatureCount, FeatureCount), output.Slice(r * width, width), kind);
            }

            return;
        }

        var blockMargins = TreeEnsemble.BlockRows * GroupCount;
        var rented = ArrayPool<float>.Shared.Rent(blockMargins);
        var scratch = ArrayPool<float>.Shared.Rent(trees.BatchScratchLength);
        try
        {
            for (var start = 0; start < rowCount; start += TreeEnsemble.BlockRows)
            {
                var count = Math.Min(TreeEnsemble.BlockRows, rowCount - start);
                var margins = rented.AsSpan(0, count * GroupCount);
                for (var r = 0; r < count; r++)
                {
                    baseMargins.CopyTo(margins.Slice(r * GroupCount, GroupCount));
                }

                trees.AccumulateBatch(rows.Slice(start * FeatureCount, count * FeatureCount), count, FeatureCount, margins, scratch);
                for (var r = 0; r < count; r++)
                {
                    Finish(margins.Slice(r * GroupCount, GroupCount), output.Slice((start + r) * width, width), kind);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    private void Finish(Span<float> margins, Span<float> output, OutputKind kind)
    {
        if (kind == OutputKind.Margin)
        {
            margins.CopyTo(output);
        }
        else
        {
            objective.Transform(margins, output);
        }
    }
}
