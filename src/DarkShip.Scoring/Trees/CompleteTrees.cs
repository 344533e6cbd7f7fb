using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DarkShip.Scoring.Trees;

/// <summary>
/// The batch layout of a forest: each tree padded to a complete binary tree of its depth and stored
/// in heap order (node <c>i</c>'s children are <c>2i</c> and <c>2i+1</c>, the root is 1), so a row
/// descends with one comparison per level and no branches: <c>i = 2i + (v &lt; t ? 0 : 1)</c>.
/// Eight rows descend a tree together, overlapping their loads.
/// </summary>
/// <remarks>
/// <para>
/// Missing values without a branch: <c>!(v &lt; t)</c> is true for NaN, which is right for a node
/// whose missing values go right. A node whose missing values go left is stored mirrored: it reads the
/// row's negated copy, compares with <c>-BitDecrement(t)</c> and swaps its children, because
/// <c>!(-v &lt; -BitDecrement(t))</c> holds exactly when <c>v &lt; t</c> or <c>v</c> is NaN.
/// </para>
/// <para>
/// Rows are staged block by block in a feature-major scratch: <see cref="BlockRows"/> values of
/// feature 0, then of feature 1, …, then the negated features, then one block of zeros that padding
/// nodes read. Nodes store the offset of their feature's block, so row <c>k</c>'s value is at
/// <c>offset + k</c>. Trees deeper than <see cref="MaxDepth"/>, or with a threshold the mirror cannot
/// express (NaN, −∞), keep the pointer layout; <see cref="IsComplete"/> says which.
/// </para>
/// </remarks>
internal sealed class CompleteTrees
{
    /// <summary>Rows staged together; a power of two so that offsets are shifts.</summary>
    public const int BlockRows = 64;

    /// <summary>Deepest tree worth padding: 2^10 leaves, 12 KiB.</summary>
    public const int MaxDepth = 10;

    private const int Lanes = 8;

    private const int BlockShift = 6; // log2(BlockRows): a node's offset is its staged feature × BlockRows

    private readonly HeapNode[] nodes;
    private readonly float[] leaves;
    private readonly int[] nodeStarts;
    private readonly int[] leafStarts;
    private readonly int[] depths;
    private readonly int featureCount;

    private CompleteTrees(HeapNode[] nodes, float[] leaves, int[] nodeStarts, int[] leafStarts, int[] depths, int featureCount)
    {
        this.nodes = nodes;
        this.leaves = leaves;
        this.nodeStarts = nodeStarts;
        this.leafStarts = leafStarts;
        this.depths = depths;
        this.featureCount = featureCount;
    }

    /// <summary>Floats of scratch <see cref="Stage"/> needs.</summary>
    public int ScratchLength => ((2 * featureCount) + 1) * BlockRows;

    /// <summary>Whether tree <paramref name="tree"/> has the complete layout.</summary>
    public bool IsComplete(int tree) => depths[tree] >= 0;

    /// <summary>Builds the complete layout of every tree that fits it, from the pointer layout.</summary>
    public static CompleteTrees Build(ReadOnlySpan<Node> pointerNodes, ReadOnlySpan<float> pointerLeaves, ReadOnlySpan<int> roots, int featureCount)
    {
        var depths = new int[roots.Length];
        var nodeStarts = new int[roots.Length];
        var leafStarts = new int[roots.Length];
        long nodeTotal = 0, leafTotal = 0;
        for (var t = 0; t < roots.Length; t++)
        {
            var depth = Fits(pointerNodes, roots[t]);
            depths[t] = depth;
            if (depth < 0)
            {
                continue;
            }

            nodeStarts[t] = (int)nodeTotal;
            leafStarts[t] = (int)leafTotal;
            nodeTotal += 1L << depth; // slot 0 unused: the root is 1
            leafTotal += 1L << depth;
        }

        var nodes = new HeapNode[nodeTotal];
        var leaves = new float[leafTotal];
        var padding = new HeapNode(2 * featureCount * BlockRows, 0f);
        for (var t = 0; t < roots.Length; t++)
        {
            if (depths[t] >= 0)
            {
                var tree = new Span<HeapNode>(nodes, nodeStarts[t], 1 << depths[t]);
                var treeLeaves = new Span<float>(leaves, leafStarts[t], 1 << depths[t]);
                Place(pointerNodes, pointerLeaves, roots[t], 1, depths[t], tree, treeLeaves, padding, featureCount);
            }
        }

        return new CompleteTrees(nodes, leaves, nodeStarts, leafStarts, depths, featureCount);
    }

    /// <summary>
    /// Copies rows <c>[0, rowCount)</c> (row-major, <c>featureCount</c> wide) into
    /// <paramref name="scratch"/> in the feature-major layout, negated copies and zero block included.
    /// Lanes past <paramref name="rowCount"/> are zero, so a partial block descends harmlessly.
    /// </summary>
    public void Stage(ReadOnlySpan<float> rows, int rowCount, Span<float> scratch)
    {
        var width = featureCount;
        var negated = width * BlockRows;
        if (rowCount < BlockRows)
        {
            scratch[..ScratchLength].Clear();
        }
        else
        {
            scratch.Slice(2 * negated, BlockRows).Clear();
        }

        ref var rows0 = ref MemoryMarshal.GetReference(rows);
        ref var scratch0 = ref MemoryMarshal.GetReference(scratch);
        for (var r = 0; r < rowCount; r++)
        {
            ref var row = ref Unsafe.Add(ref rows0, r * width);
            for (var f = 0; f < width; f++)
            {
                var value = Unsafe.Add(ref row, f);
                Unsafe.Add(ref scratch0, (f * BlockRows) + r) = value;
                Unsafe.Add(ref scratch0, negated + (f * BlockRows) + r) = -value;
            }
        }
    }

    /// <summary>
    /// Adds tree <paramref name="tree"/>'s leaf for each staged row to
    /// <c>margins[row * groupCount + group]</c>. The tree must be complete.
    /// </summary>
    public void AccumulateStaged(int tree, ReadOnlySpan<float> scratch, int rowCount, Span<float> margins, int groupCount, int group)
    {
        var depth = depths[tree];
        ref var tn = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(nodes), nodeStarts[tree]);
        ref var tl = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(leaves), leafStarts[tree]);
        var bottom = 1 << depth; // heap slot of the first leaf
        ref var x = ref MemoryMarshal.GetReference(scratch);
        ref var m = ref Unsafe.Add(ref MemoryMarshal.GetReference(margins), group);
        for (var r = 0; r < rowCount; r += Lanes)
        {
            ref var xr = ref Unsafe.Add(ref x, r);
            int a = 1, b = 1, c = 1, d = 1, e = 1, f = 1, g = 1, h = 1;
            for (var level = 0; level < depth; level++)
            {
                a = (a << 1) | Bit(ref tn, ref xr, a, 0);
                b = (b << 1) | Bit(ref tn, ref xr, b, 1);
                c = (c << 1) | Bit(ref tn, ref xr, c, 2);
                d = (d << 1) | Bit(ref tn, ref xr, d, 3);
                e = (e << 1) | Bit(ref tn, ref xr, e, 4);
                f = (f << 1) | Bit(ref tn, ref xr, f, 5);
                g = (g << 1) | Bit(ref tn, ref xr, g, 6);
                h = (h << 1) | Bit(ref tn, ref xr, h, 7);
            }

            var live = Math.Min(Lanes, rowCount - r);
            ref var mr = ref Unsafe.Add(ref m, r * groupCount);
            Unsafe.Add(ref mr, 0) += Unsafe.Add(ref tl, a - bottom);
            if (live == Lanes)
            {
                Unsafe.Add(ref mr, groupCount) += Unsafe.Add(ref tl, b - bottom);
                Unsafe.Add(ref mr, 2 * groupCount) += Unsafe.Add(ref tl, c - bottom);
                Unsafe.Add(ref mr, 3 * groupCount) += Unsafe.Add(ref tl, d - bottom);
                Unsafe.Add(ref mr, 4 * groupCount) += Unsafe.Add(ref tl, e - bottom);
                Unsafe.Add(ref mr, 5 * groupCount) += Unsafe.Add(ref tl, f - bottom);
                Unsafe.Add(ref mr, 6 * groupCount) += Unsafe.Add(ref tl, g - bottom);
                Unsafe.Add(ref mr, 7 * groupCount) += Unsafe.Add(ref tl, h - bottom);
            }
            else
            {
                Span<int> lanes = [a, b, c, d, e, f, g, h];
                for (var k = 1; k < live; k++)
                {
                    Unsafe.Add(ref mr, k * groupCount) += Unsafe.Add(ref tl, lanes[k] - bottom);
                }
            }
        }
    }

    /// <summary>Floats of scratch <see cref="StageRow"/> needs.</summary>
    public int RowScratchLength => (2 * featureCount) + 1;

    /// <summary>Copies one row into <paramref name="scratch"/>: the values, their negations, then a zero.</summary>
    public void StageRow(ReadOnlySpan<float> row, Span<float> scratch)
    {
        var width = featureCount;
        row[..width].CopyTo(scratch);
        for (var f = 0; f < width; f++)
        {
            scratch[width + f] = -row[f];
        }

        scratch[2 * width] = 0f;
    }

    /// <summary>The leaf value tree <paramref name="tree"/> (complete) gives the row staged by <see cref="StageRow"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Descend(int tree, ref float staged)
    {
        var depth = depths[tree];
        ref var tn = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(nodes), nodeStarts[tree]);
        var i = 1;
        for (var level = 0; level < depth; level++)
        {
            ref readonly var n = ref Unsafe.Add(ref tn, i);
            i = (i << 1) | (Unsafe.Add(ref staged, n.Offset >> BlockShift) < n.Threshold ? 0 : 1);
        }

        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(leaves), leafStarts[tree] + i - (1 << depth));
    }

    /// <summary>0 to go to child <c>2i</c>, 1 for <c>2i+1</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bit(ref HeapNode tree, ref float lanes, int node, int lane)
    {
        ref readonly var n = ref Unsafe.Add(ref tree, node);
        return Unsafe.Add(ref lanes, n.Offset + lane) < n.Threshold ? 0 : 1;
    }

    /// <summary>The tree's depth when it can take the complete layout, else -1.</summary>
    private static int Fits(ReadOnlySpan<Node> nodes, int root)
    {
        if (root < 0)
        {
            return 0;
        }

        // Iterative depth-first walk; a tree that fits has at most 2^MaxDepth - 1 splits.
        Span<int> stack = stackalloc int[(2 * MaxDepth) + 2];
        Span<int> levels = stackalloc int[(2 * MaxDepth) + 2];
        var top = 0;
        stack[top] = root;
        levels[top++] = 0;
        var depth = 0;
        while (top > 0)
        {
            var node = stack[--top];
            var level = levels[top];
            if (node < 0)
            {
                depth = Math.Max(depth, level);
                continue;
            }

            if (level >= MaxDepth)
            {
                return -1;
            }

            var n = nodes[node];
            if (n.DefaultLeft && (float.IsNaN(n.Threshold) || float.IsNegativeInfinity(n.Threshold)))
            {
                return -1;
            }

            stack[top] = n.Left;
            levels[top++] = level + 1;
            stack[top] = n.Right;
            levels[top++] = level + 1;
        }

        return depth;
    }

    /// <summary>Places pointer-layout <paramref name="node"/> at heap slot <paramref name="slot"/> (with <paramref name="remaining"/> levels below it).</summary>
    private static void Place(
        ReadOnlySpan<Node> pointerNodes,
        ReadOnlySpan<float> pointerLeaves,
        int node,
        int slot,
        int remaining,
        Span<HeapNode> tree,
        Span<float> leaves,
        HeapNode padding,
        int featureCount)
    {
        if (node < 0)
        {
            // A leaf above the bottom: every bottom slot beneath it holds its value, and the splits
            // in between are padding whose direction does not matter.
            var value = pointerLeaves[~node];
            var first = slot << remaining;
            leaves.Slice(first - leaves.Length, 1 << remaining).Fill(value);
            for (int level = 0, width = 1; level < remaining; level++, width <<= 1)
            {
                tree.Slice(slot << level, width).Fill(padding);
            }

            return;
        }

        if (remaining == 0)
        {
            throw new InvalidOperationException("A split below the measured depth.");
        }

        var n = pointerNodes[node];
        if (n.DefaultLeft)
        {
            tree[slot] = new HeapNode((featureCount + n.Feature) * BlockRows, -MathF.BitDecrement(n.Threshold));
            Place(pointerNodes, pointerLeaves, n.Right, 2 * slot, remaining - 1, tree, leaves, padding, featureCount);
            Place(pointerNodes, pointerLeaves, n.Left, (2 * slot) + 1, remaining - 1, tree, leaves, padding, featureCount);
        }
        else
        {
            tree[slot] = new HeapNode(n.Feature * BlockRows, n.Threshold);
            Place(pointerNodes, pointerLeaves, n.Left, 2 * slot, remaining - 1, tree, leaves, padding, featureCount);
            Place(pointerNodes, pointerLeaves, n.Right, (2 * slot) + 1, remaining - 1, tree, leaves, padding, featureCount);
        }
    }

    /// <summary>A split in heap order: where its feature's lanes start in the scratch, and the threshold.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct HeapNode(int Offset, float Threshold);
}
