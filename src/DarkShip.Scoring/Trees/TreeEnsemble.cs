using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DarkShip.Scoring.Trees;

/// <summary>
/// A compiled forest: every tree's splits in one flat <see cref="Node"/> array (each tree laid
/// out in depth-first pre-order, so the left path is contiguous), leaf values in another.
/// Immutable once built; safe for concurrent readers. Batches use a second, branch-free layout of
/// the same trees (<see cref="CompleteTrees"/>).
/// </summary>
internal sealed class TreeEnsemble
{
    /// <summary>Rows scored together per pass over the trees, so a tree stays in cache across them.</summary>
    internal const int BlockRows = CompleteTrees.BlockRows;

    private readonly Node[] nodes;
    private readonly float[] leaves;
    private readonly int[] roots;
    private readonly int[] groups;
    private readonly CompleteTrees complete;

    internal TreeEnsemble(Node[] nodes, float[] leaves, int[] roots, int[] groups, int groupCount, int featureCount)
    {
        complete = CompleteTrees.Build(nodes, leaves, roots, featureCount);
        this.nodes = nodes;
        this.leaves = leaves;
        this.roots = roots;
        this.groups = groups;
        GroupCount = groupCount;
    }

    public int TreeCount => roots.Length;

    public int NodeCount => nodes.Length;

    public int GroupCount { get; }

    /// <summary>Widest row staged on the stack for the branch-free walk; wider rows walk the pointer layout.</summary>
    private const int MaxStagedFeatures = 1024;

    /// <summary>Adds every tree's leaf for one row to <paramref name="margins"/> (one slot per output group).</summary>
    public void Accumulate(ReadOnlySpan<float> row, Span<float> margins)
    {
        if (row.Length > MaxStagedFeatures)
        {
            AccumulatePointer(row, margins);
            return;
        }

        Span<float> staged = stackalloc float[complete.RowScratchLength];
        complete.StageRow(row, staged);
        ref var staged0 = ref MemoryMarshal.GetReference(staged);
        ref var nodes0 = ref MemoryMarshal.GetArrayDataReference(nodes);
        ref var leaves0 = ref MemoryMarshal.GetArrayDataReference(leaves);
        ref var row0 = ref MemoryMarshal.GetReference(row);
        for (var t = 0; t < roots.Length; t++)
        {
            margins[groups[t]] += complete.IsComplete(t)
                ? complete.Descend(t, ref staged0)
                : Unsafe.Add(ref leaves0, Descend(ref nodes0, ref row0, roots[t]));
        }
    }

    private void AccumulatePointer(ReadOnlySpan<float> row, Span<float> margins)
    {
        ref var nodes0 = ref MemoryMarshal.GetArrayDataReference(nodes);
        ref var leaves0 = ref MemoryMarshal.GetArrayDataReference(leaves);
        ref var row0 = ref MemoryMarshal.GetReference(row);
        for (var t = 0; t < roots.Length; t++)
        {
            margins[groups[t]] += Unsafe.Add(ref leaves0, Descend(ref nodes0, ref row0, roots[t]));
        }
    }

    /// <summary>
    /// Adds every tree's leaves for a block of up to <see cref="BlockRows"/> rows (row-major,
    /// <paramref name="featureCount"/> wide) to <paramref name="margins"/> (row-major,
    /// <see cref="GroupCount"/> wide). Trees with the complete layout descend branch-free from the
    /// staged block in <paramref name="scratch"/> (<see cref="BatchScratchLength"/> floats); the rest
    /// walk the pointer layout. Within a row, trees are added in model order, so sums equal those of
    /// <see cref="Accumulate"/>.
    /// </summary>
    public void AccumulateBatch(ReadOnlySpan<float> rows, int rowCount, int featureCount, Span<float> margins, Span<float> scratch)
    {
        if (rowCount > BlockRows)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount), rowCount, $"A block holds at most {BlockRows} rows.");
        }

        complete.Stage(rows, rowCount, scratch);
        var groupCount = GroupCount;
        for (var t = 0; t < roots.Length; t++)
        {
            if (complete.IsComplete(t))
            {
                complete.AccumulateStaged(t, scratch, rowCount, margins, groupCount, groups[t]);
            }
            else
            {
                AccumulatePointer(t, rows, rowCount, featureCount, margins);
            }
        }
    }

    /// <summary>Floats of scratch <see cref="AccumulateBatch"/> needs.</summary>
    public int BatchScratchLength => complete.ScratchLength;

    private void AccumulatePointer(int tree, ReadOnlySpan<float> rows, int rowCount, int featureCount, Span<float> margins)
    {
        ref var nodes0 = ref MemoryMarshal.GetArrayDataReference(nodes);
        ref var leaves0 = ref MemoryMarshal.GetArrayDataReference(leaves);
        ref var rows0 = ref MemoryMarshal.GetReference(rows);
        ref var margins0 = ref MemoryMarshal.GetReference(margins);
        var root = roots[tree];
        var group = groups[tree];
        for (var r = 0; r < rowCount; r++)
        {
            var leaf = Descend(ref nodes0, ref Unsafe.Add(ref rows0, r * featureCount), root);
            Unsafe.Add(ref margins0, (r * GroupCount) + group) += Unsafe.Add(ref leaves0, leaf);
        }
    }

    /// <summary>Walks one tree from <paramref name="node"/> to its leaf; returns the leaf's index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Descend(ref Node nodes0, ref float row0, int node)
    {
        while (node >= 0)
        {
            node = Step(ref nodes0, ref row0, node);
        }

        return ~node;
    }

    /// <summary>One step down; a leaf (negative) stays where it is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Step(ref Node nodes0, ref float row0, int node)
    {
        if (node < 0)
        {
            return node;
        }

        ref readonly var n = ref Unsafe.Add(ref nodes0, node);
        var value = Unsafe.Add(ref row0, n.FeatureAndDefault & int.MaxValue);

        // value < threshold → left; NaN fails every comparison, so it goes right unless the node says left.
        return value < n.Threshold || (float.IsNaN(value) && n.FeatureAndDefault < 0) ? n.Left : n.Right;
    }
}
