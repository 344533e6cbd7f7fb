using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DarkShip.Scoring.Trees;

/// <summary>
/// A compiled forest: every tree's splits in one flat <see cref="Node"/> array (each tree laid
/// out in depth-first pre-order, so the left path is contiguous), leaf values in another.
/// Immutable once built; safe for concurrent readers.
/// </summary>
internal sealed class TreeEnsemble
{
    /// <summary>Rows scored together per pass over the trees, so a tree stays in cache across them.</summary>
    internal const int BlockRows = 64;

    private readonly Node[] nodes;
    private readonly float[] leaves;
    private readonly int[] roots;
    private readonly int[] groups;

    internal TreeEnsemble(Node[] nodes, float[] leaves, int[] roots, int[] groups, int groupCount)
    {
        this.nodes = nodes;
        this.leaves = leaves;
        this.roots = roots;
        this.groups = groups;
        GroupCount = groupCount;
    }

    public int TreeCount => roots.Length;

    public int NodeCount => nodes.Length;

    public int GroupCount { get; }

    /// <summary>Adds every tree's leaf for one row to <paramref name="margins"/> (one slot per output group).</summary>
    public void Accumulate(ReadOnlySpan<float> row, Span<float> margins)
    {
        ref var nodes0 = ref MemoryMarshal.GetArrayDataReference(nodes);
        ref var leaves0 = ref MemoryMarshal.GetArrayDataReference(leaves);
        ref var row0 = ref MemoryMarshal.GetReference(row);
        if (GroupCount == 1)
        {
            var sum = margins[0];
            for (var t = 0; t < roots.Length; t++)
            {
                sum += Unsafe.Add(ref leaves0, Descend(ref nodes0, ref row0, roots[t]));
            }

            margins[0] = sum;
            return;
        }

        for (var t = 0; t < roots.Length; t++)
        {
            margins[groups[t]] += Unsafe.Add(ref leaves0, Descend(ref nodes0, ref row0, roots[t]));
        }
    }

    /// <summary>
    /// Adds every tree's leaves for <paramref name="rowCount"/> rows (row-major, <paramref name="featureCount"/>
    /// wide) to <paramref name="margins"/> (row-major, <see cref="GroupCount"/> wide), a block of rows per pass.
    /// Within a row, trees are added in model order, so sums equal those of <see cref="Accumulate"/>.
    /// </summary>
    public void AccumulateBatch(ReadOnlySpan<float> rows, int rowCount, int featureCount, Span<float> margins)
    {
        ref var nodes0 = ref MemoryMarshal.GetArrayDataReference(nodes);
        ref var leaves0 = ref MemoryMarshal.GetArrayDataReference(leaves);
        ref var rows0 = ref MemoryMarshal.GetReference(rows);
        ref var margins0 = ref MemoryMarshal.GetReference(margins);
        var groupCount = GroupCount;
        for (var start = 0; start < rowCount; start += BlockRows)
        {
            var end = Math.Min(start + BlockRows, rowCount);
            for (var t = 0; t < roots.Length; t++)
            {
                var root = roots[t];
                var group = groups[t];
                var r = start;

                // Four rows descend the same tree side by side: their loads are independent, so
                // the CPU overlaps them instead of waiting on one chain of dependent reads.
                for (; r + 4 <= end; r += 4)
                {
                    ref var a = ref Unsafe.Add(ref rows0, r * featureCount);
                    ref var b = ref Unsafe.Add(ref a, featureCount);
                    ref var c = ref Unsafe.Add(ref b, featureCount);
                    ref var d = ref Unsafe.Add(ref c, featureCount);
                    int na = root, nb = root, nc = root, nd = root;
                    while ((na & nb & nc & nd) >= 0) // until all four reach a leaf (all sign bits set)
                    {
                        na = Step(ref nodes0, ref a, na);
                        nb = Step(ref nodes0, ref b, nb);
                        nc = Step(ref nodes0, ref c, nc);
                        nd = Step(ref nodes0, ref d, nd);
                    }

                    Unsafe.Add(ref margins0, (r * groupCount) + group) += Unsafe.Add(ref leaves0, ~na);
                    Unsafe.Add(ref margins0, ((r + 1) * groupCount) + group) += Unsafe.Add(ref leaves0, ~nb);
                    Unsafe.Add(ref margins0, ((r + 2) * groupCount) + group) += Unsafe.Add(ref leaves0, ~nc);
                    Unsafe.Add(ref margins0, ((r + 3) * groupCount) + group) += Unsafe.Add(ref leaves0, ~nd);
                }

                for (; r < end; r++)
                {
                    var leaf = Descend(ref nodes0, ref Unsafe.Add(ref rows0, r * featureCount), root);
                    Unsafe.Add(ref margins0, (r * groupCount) + group) += Unsafe.Add(ref leaves0, leaf);
                }
            }
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
