namespace DarkShip.Scoring.Trees;

/// <summary>
/// Validates XGBoost trees one at a time and compiles them into a <see cref="TreeEnsemble"/>.
/// A tree that is not a tree (a child out of range, a node reached twice, a half leaf) is refused
/// with a <see cref="ModelFormatException"/> naming it.
/// </summary>
internal sealed class TreeEnsembleBuilder
{
    private readonly List<Node> nodes = [];
    private readonly List<float> leaves = [];
    private readonly List<int> roots = [];
    private readonly List<int> leafStarts = [];

    // Scratch reused across trees so that compiling allocates per model, not per tree.
    private int[] newIndex = [];
    private int[] stack = [];

    public int TreeCount => roots.Count;

    /// <summary>The largest feature index any split uses, or -1 when no tree splits.</summary>
    public int MaxFeatureIndex { get; private set; } = -1;

    /// <summary>Adds one tree given XGBoost's parallel arrays (node 0 is the root; -1 marks a leaf's children).</summary>
    public void AddTree(
        int treeIndex,
        ReadOnlySpan<int> leftChildren,
        ReadOnlySpan<int> rightChildren,
        ReadOnlySpan<int> splitIndices,
        ReadOnlySpan<float> splitConditions,
        ReadOnlySpan<bool> defaultLeft)
    {
        var count = leftChildren.Length;
        if (count == 0)
        {
            throw Bad(treeIndex, "has no nodes");
        }

        if (rightChildren.Length != count || splitIndices.Length != count || splitConditions.Length != count || defaultLeft.Length != count)
        {
            throw Bad(treeIndex, $"has arrays of different lengths (left_children {count}, right_children {rightChildren.Length}, split_indices {splitIndices.Length}, split_conditions {splitConditions.Length}, default_left {defaultLeft.Length})");
        }

        if (newIndex.Length < count)
        {
            newIndex = new int[Math.Max(count, newIndex.Length * 2)];
            stack = new int[newIndex.Length + 2];
        }

        var nodeBase = nodes.Count;
        var leafBase = leaves.Count;
        Array.Fill(newIndex, int.MaxValue, 0, count);

        // Pass 1: pre-order numbering (left child right after its parent), checking it is a tree.
        var top = 0;
        stack[top++] = 0;
        var nextNode = nodeBase;
        var nextLeaf = leafBase;
        while (top > 0)
        {
            var old = stack[--top];
            if (newIndex[old] != int.MaxValue)
            {
                throw Bad(treeIndex, $"reaches node {old} twice: the children arrays do not form a tree");
            }

            int left = leftChildren[old], right = rightChildren[old];
            if (left == -1)
            {
                if (right != -1)
                {
                    throw Bad(treeIndex, $"node {old} has a right child ({right}) but no left child");
                }

                newIndex[old] = ~nextLeaf++;
                continue;
            }

            if ((uint)left >= (uint)count || (uint)right >= (uint)count)
            {
                throw Bad(treeIndex, $"node {old} has a child out of range ({left}, {right}) for {count} nodes");
            }

            var feature = splitIndices[old];
            if (feature < 0)
            {
                throw Bad(treeIndex, $"node {old} splits on a negative feature index ({feature})");
            }

            MaxFeatureIndex = Math.Max(MaxFeatureIndex, feature);
            newIndex[old] = nextNode++;
            if (top + 2 > stack.Length)
            {
                throw Bad(treeIndex, "has more reachable nodes than it declares");
            }

            stack[top++] = right;
            stack[top++] = left;
        }

        // Pass 2: emit nodes and leaves in their new order.
        for (var i = nodeBase; i < nextNode; i++)
        {
            nodes.Add(default);
        }

        for (var i = leafBase; i < nextLeaf; i++)
        {
            leaves.Add(0f);
        }

        for (var old = 0; old < count; old++)
        {
            var at = newIndex[old];
            if (at == int.MaxValue)
            {
                continue; // unreachable (deleted) node
            }

            if (at < 0)
            {
                leaves[~at] = splitConditions[old];
                continue;
            }

            var flags = defaultLeft[old] ? Node.DefaultLeftFlag : 0;
            nodes[at] = new Node(splitIndices[old] | flags, splitConditions[old], newIndex[leftChildren[old]], newIndex[rightChildren[old]]);
        }

        roots.Add(newIndex[0]);
        leafStarts.Add(leafBase);
    }

    /// <summary>Scales each tree's leaves by its DART weight (XGBoost multiplies each tree's output by it).</summary>
    public void ApplyTreeWeights(ReadOnlySpan<float> weights)
    {
        if (weights.Length != roots.Count)
        {
            throw new ModelFormatException($"weight_drop has {weights.Length} weights for {roots.Count} trees");
        }

        for (var t = 0; t < roots.Count; t++)
        {
            var end = t + 1 < leafStarts.Count ? leafStarts[t + 1] : leaves.Count;
            for (var i = leafStarts[t]; i < end; i++)
            {
                leaves[i] *= weights[t];
            }
        }
    }

    /// <summary>Puts the trees in the order given: <paramref name="order"/>[i] is the position (in the order added) of the tree that goes i-th.</summary>
    public void Reorder(ReadOnlySpan<int> order)
    {
        if (order.Length != roots.Count)
        {
            throw new ModelFormatException($"{order.Length} tree ids for {roots.Count} trees");
        }

        var reordered = new int[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            reordered[i] = roots[order[i]];
        }

        roots.Clear();
        roots.AddRange(reordered);
        leafStarts.Clear(); // leaf ranges follow the file order; nothing after reordering needs them
    }

    /// <summary>Finishes the forest; <paramref name="groups"/> gives each tree's output group (XGBoost's tree_info); rows are <paramref name="featureCount"/> wide.</summary>
    public TreeEnsemble Build(ReadOnlySpan<int> groups, int groupCount, int featureCount)
    {
        if (groups.Length != roots.Count)
        {
            throw new ModelFormatException($"tree_info has {groups.Length} entries for {roots.Count} trees");
        }

        foreach (var g in groups)
        {
            if ((uint)g >= (uint)groupCount)
            {
                throw new ModelFormatException($"tree_info names output group {g}, but the model has {groupCount}");
            }
        }

        return new TreeEnsemble([.. nodes], [.. leaves], [.. roots], groups.ToArray(), groupCount, featureCount);
    }

    private static ModelFormatException Bad(int treeIndex, string what) => new($"tree {treeIndex} {what}");
}
