using System.Globalization;
using System.Text;
using System.Text.Json;
using DarkShip.Scoring.Linear;
using DarkShip.Scoring.Objectives;
using DarkShip.Scoring.Trees;

namespace DarkShip.Scoring.XGBoost;

/// <summary>
/// Reads models written by XGBoost's <c>Booster.save_model("m.json")</c> (the JSON schema of
/// XGBoost 1.7 and later) in one forward pass, compiling trees as they stream by.
/// Anything malformed, inconsistent or unsupported fails with a <see cref="ModelFormatException"/>
/// that names the problem: a model DarkShip cannot score exactly is never loaded. That includes what
/// XGBoost itself would silently misread: a member written twice, trees out of order or not matching
/// <c>num_trees</c>, a non-finite <c>base_score</c>, output groups that the objective or the trees
/// contradict, and widths too large to score.
/// </summary>
public static class XGBoostModelReader
{
    /// <summary>Most features a model may read: wider rows are refused at load (batch scoring lays rows out in 64-row blocks).</summary>
    public const int MaxFeatures = 1 << 20;

    /// <summary>Most output groups (classes or targets) a model may have.</summary>
    public const int MaxOutputGroups = 1 << 16;

    /// <summary>Loads and compiles the model file at <paramref name="path"/>.</summary>
    public static XGBoostModel Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"cannot read model file '{path}': {e.Message}", e);
        }

        return Parse(bytes);
    }

    /// <summary>Compiles a model from its UTF-8 JSON text.</summary>
    public static XGBoostModel Parse(ReadOnlySpan<byte> utf8Json)
    {
        var parser = new Parser();
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            parser.ReadRoot(ref reader);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"the model is not valid JSON ({Where(e)}): {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            throw new ModelFormatException($"the model has a value of the wrong type at '{parser.Path}' (byte {reader.TokenStartIndex}): {e.Message}", e);
        }

        return parser.Finish();
    }

    private static string Where(JsonException e) =>
        e.LineNumber is { } line ? $"line {line + 1}, byte {e.BytePositionInLine}" : "at the end";

    /// <summary>The state of one pass over a model file.</summary>
    private sealed class Parser
    {
        private readonly TreeEnsembleBuilder builder = new();
        private readonly List<string> featureNames = [];
        private readonly List<string> featureTypes = [];
        private readonly Dictionary<string, string> modelParams = new(StringComparer.Ordinal);
        private readonly ArrayBuffer<int> left = new();
        private readonly ArrayBuffer<int> right = new();
        private readonly ArrayBuffer<int> splitIndex = new();
        private readonly ArrayBuffer<float> condition = new();
        private readonly ArrayBuffer<bool> defaultLeft = new();
        private readonly ArrayBuffer<int> splitType = new();
        private readonly ArrayBuffer<int> treeInfo = new();
        private readonly ArrayBuffer<int> treeIds = new();
        private readonly Dictionary<string, string> gbtreeParams = new(StringComparer.Ordinal);
        private readonly ArrayBuffer<float> weightDrop = new();
        private readonly ArrayBuffer<float> linearWeights = new();
        private readonly ArrayBuffer<int> scratchInts = new();
        private readonly Dictionary<string, string> treeParams = new(StringComparer.Ordinal);

        private string? boosterName;
        private string? innerBoosterName;
        private string? objectiveName;
        private bool sawTrees;
        private bool sawTreeInfo;
        private bool sawLinear;
        private bool sawWeightDrop;
        private bool sawLearner;

        public string Path { get; private set; } = "$";

        public void ReadRoot(ref Utf8JsonReader reader)
        {
            ReadStart(ref reader, JsonTokenType.StartObject, "$");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader, seen, "$", out var name))
            {
                if (name == "learner")
                {
                    sawLearner = true;
                    ReadLearner(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }

            if (reader.Read())
            {
                throw new ModelFormatException("the model has content after its closing brace");
            }
        }

        public XGBoostModel Finish()
        {
            if (!sawLearner)
            {
                throw new ModelFormatException("the model has no 'learner' object; is this an XGBoost JSON model (save_model with a .json name)?");
            }

            var featureCount = ParamInt("num_feature");
            if (featureCount <= 0 || featureCount > MaxFeatures)
            {
                throw new ModelFormatException($"learner_model_param.num_feature must be 1 to {MaxFeatures}, the model has {featureCount}");
            }

            var classes = modelParams.ContainsKey("num_class") ? ParamInt("num_class") : 0;
            var targets = modelParams.ContainsKey("num_target") ? ParamInt("num_target") : 1;
            if (targets < 1)
            {
                throw new ModelFormatException($"learner_model_param.num_target must be at least 1, the model has {targets}");
            }

            if (classes > MaxOutputGroups || targets > MaxOutputGroups)
            {
                throw new ModelFormatException($"learner_model_param: num_class {classes} and num_target {targets} must be at most {MaxOutputGroups}");
            }

            if (classes > 1 && targets > 1)
            {
                throw new ModelFormatException($"learner_model_param: num_class {classes} and num_target {targets} cannot both be above 1");
            }

            var groups = Math.Max(1, Math.Max(classes, targets));
            var multiClass = objectiveName is "multi:softmax" or "multi:softprob";
            if (objectiveName is not null && !multiClass && classes > 1)
            {
                throw new ModelFormatException($"learner_model_param.num_class is {classes}, but objective '{objectiveName}' is not a multi-class objective");
            }

            if (featureNames.Count != 0 && featureNames.Count != featureCount)
            {
                throw new ModelFormatException($"the model names {featureNames.Count} features but num_feature is {featureCount}");
            }

            if (objectiveName is null)
            {
                throw new ModelFormatException("the model has no objective name (learner.objective.name)");
            }

            var objective = Objective.Create(objectiveName, groups);
            var baseMargins = BaseMargins(objective, groups);

            switch (boosterName)
            {
                case "gbtree" or "dart":
                    if (!sawTrees)
                    {
                        throw new ModelFormatException($"the {boosterName} booster has no 'trees' array");
                    }

                    if (!sawTreeInfo)
                    {
                        throw new ModelFormatException($"the {boosterName} booster has no 'tree_info' array");
                    }

                    if (builder.MaxFeatureIndex >= featureCount)
                    {
                        throw new ModelFormatException($"a tree splits on feature {builder.MaxFeatureIndex}, but num_feature is {featureCount}");
                    }

                    var order = TreeOrder();
                    CheckGroupsHaveTrees(groups);

                    if (boosterName == "dart")
                    {
                        if (innerBoosterName is not null and not "gbtree")
                        {
                            throw new ModelFormatException($"a dart booster must wrap gbtree, this one wraps '{innerBoosterName}'");
                        }

                        if (!sawWeightDrop)
                        {
                            throw new ModelFormatException("the dart booster has no 'weight_drop' array");
                        }

                        if (weightDrop.Count != order.Length)
                        {
                            throw new ModelFormatException($"weight_drop has {weightDrop.Count} weights for {order.Length} trees");
                        }

                        // weight_drop is indexed by tree id; the builder holds trees in file order.
                        var byPosition = new float[order.Length];
                        for (var position = 0; position < byPosition.Length; position++)
                        {
                            byPosition[position] = weightDrop.Span[treeIds.Span[position]];
                        }

                        builder.ApplyTreeWeights(byPosition);
                    }

                    builder.Reorder(order); // XGBoost places and sums trees by id, whatever their order in the file
                    var ensemble = builder.Build(treeInfo.Span, groups, featureCount);
                    return new XGBoostModel(boosterName, objectiveName, featureCount, groups, baseMargins, featureNames.ToArray(), ensemble, null, objective);

                case "gblinear":
                    if (!sawLinear)
                    {
                        throw new ModelFormatException("the gblinear booster has no 'weights' array");
                    }

                    if (linearWeights.Count != ((long)featureCount + 1) * groups)
                    {
                        throw new ModelFormatException(
                            $"gblinear has {linearWeights.Count} weights; (num_feature + 1) × groups = ({featureCount} + 1) × {groups} = {((long)featureCount + 1) * groups} expected");
                    }

                    var linear = new LinearBooster(linearWeights.Span.ToArray(), featureCount, groups);
                    return new XGBoostModel(boosterName, objectiveName, featureCount, groups, baseMargins, featureNames.ToArray(), null, linear, objective);

                case null:
                    throw new ModelFormatException("the model has no booster name (learner.gradient_booster.name)");

                default:
                    throw new ModelFormatException($"booster '{boosterName}' is not supported; supported boosters: gbtree, dart, gblinear");
            }
        }

        /// <summary>
        /// The file positions of the trees in id order. Each tree carries its <c>id</c>; XGBoost puts it at
        /// that index, so ids must be 0 … n−1 once each, n must be <c>num_trees</c>, and <c>tree_info</c>
        /// (indexed by id) must have n entries.
        /// </summary>
        private int[] TreeOrder()
        {
            var count = treeIds.Count;
            if (gbtreeParams.TryGetValue("num_trees", out var declared) && (!int.TryParse(declared, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n != count))
            {
                throw new ModelFormatException($"gbtree_model_param.num_trees is '{declared}', but the model has {count} trees");
            }

            if (treeInfo.Count != count)
            {
                throw new ModelFormatException($"tree_info has {treeInfo.Count} entries for {count} trees");
            }

            var order = new int[count];
            Array.Fill(order, -1);
            for (var position = 0; position < count; position++)
            {
                var id = treeIds.Span[position];
                if ((uint)id >= (uint)count)
                {
                    throw new ModelFormatException($"trees[{position}] has id {id}, outside 0 to {count - 1}");
                }

                if (order[id] >= 0)
                {
                    throw new ModelFormatException($"trees[{position}] and trees[{order[id]}] have the same id {id}");
                }

                order[id] = position;
            }

            return order;
        }

        /// <summary>XGBoost grows a tree for every output group each round: a group no tree feeds is one the file invented.</summary>
        private void CheckGroupsHaveTrees(int groups)
        {
            if (treeInfo.Count == 0)
            {
                return;
            }

            var fed = new bool[groups];
            foreach (var g in treeInfo.Span)
            {
                if ((uint)g >= (uint)groups)
                {
                    throw new ModelFormatException($"tree_info names output group {g}, but the model has {groups}");
                }

                fed[g] = true;
            }

            var missing = Array.IndexOf(fed, false);
            if (missing >= 0)
            {
                throw new ModelFormatException($"the model declares {groups} output groups (num_class/num_target), but no tree feeds group {missing}");
            }
        }

        private float[] BaseMargins(Objective objective, int groups)
        {
            if (!modelParams.TryGetValue("base_score", out var text))
            {
                throw new ModelFormatException("learner_model_param has no base_score");
            }

            // XGBoost ≥ 3 writes a vector intercept as "[a,b,…]"; earlier versions a single number.
            var parts = text.Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 1 && parts.Length != groups)
            {
                throw new ModelFormatException($"base_score has {parts.Length} values for {groups} output groups");
            }

            var margins = new float[groups];
            for (var g = 0; g < groups; g++)
            {
                var part = parts[parts.Length == 1 ? 0 : g];
                if (!float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var score) || !float.IsFinite(score))
                {
                    throw new ModelFormatException($"base_score '{text}' is not a finite number");
                }

                margins[g] = objective.ProbToMargin(score);
                if (!float.IsFinite(margins[g]))
                {
                    throw new ModelFormatException($"base_score '{text}' gives a non-finite starting margin");
                }
            }

            return margins;
        }

        private int ParamInt(string name)
        {
            if (!modelParams.TryGetValue(name, out var text))
            {
                throw new ModelFormatException($"learner_model_param has no {name}");
            }

            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < 0)
            {
                throw new ModelFormatException($"learner_model_param.{name} '{text}' is not a non-negative whole number");
            }

            return value;
        }

        private void ReadLearner(ref Utf8JsonReader reader)
        {
            ReadStart(ref reader, JsonTokenType.StartObject, "learner");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader, seen, "learner", out var name))
            {
                Path = "learner." + name;
                switch (name)
                {
                    case "feature_names":
                        ReadStrings(ref reader, featureNames);
                        break;
                    case "feature_types":
                        ReadStrings(ref reader, featureTypes);
                        break;
                    case "gradient_booster":
                        ReadBooster(ref reader, outer: true);
                        break;
                    case "learner_model_param":
                        ReadStringMap(ref reader, modelParams);
                        break;
                    case "objective":
                        ReadObjective(ref reader);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        private void ReadObjective(ref Utf8JsonReader reader)
        {
            ReadStart(ref reader, JsonTokenType.StartObject, Path);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader, seen, Path, out var name))
            {
                if (name == "name")
                {
                    objectiveName = ReadString(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        private void ReadBooster(ref Utf8JsonReader reader, bool outer)
        {
            var at = Path;
            ReadStart(ref reader, JsonTokenType.StartObject, at);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader, seen, at, out var name))
            {
                Path = at + "." + name;
                switch (name)
                {
                    case "name":
                        var value = ReadString(ref reader);
                        if (outer)
                        {
                            boosterName = value;
                        }
                        else
                        {
                            innerBoosterName = value;
                        }

                        break;
                    case "model":
                        ReadBoosterModel(ref reader);
                        break;
                    case "gbtree" when outer:
                        ReadBooster(ref reader, outer: false); // dart wraps a gbtree
                        break;
                    case "weight_drop" when outer:
                        ReadFloats(ref reader, weightDrop);
                        sawWeightDrop = true;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        private void ReadBoosterModel(ref Utf8JsonReader reader)
        {
            var at = Path;
            ReadStart(ref reader, JsonTokenType.StartObject, at);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader, seen, at, out var name))
            {
                Path = at + "." + name;
                switch (name)
                {
                    case "trees":
                        ReadTrees(ref reader);
                        sawTrees = true;
                        break;
                    case "tree_info":
                        ReadInts(ref reader, treeInfo);
                        sawTreeInfo = true;
                        break;
                    case "weights":
                        ReadFloats(ref reader, linearWeights);
                        sawLinear = true;
                        break;
                    case "gbtree_model_param":
                        gbtreeParams.Clear();
                        ReadStringMap(ref reader, gbtreeParams);
                        if (gbtreeParams.TryGetValue("size_leaf_vector", out var leafVector) && leafVector != "0")
                        {
                            throw new ModelFormatException("the model has vector leaves (size_leaf_vector > 0, multi-output trees); DarkShip does not score them");
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }

        private void ReadTrees(ref Utf8JsonReader reader)
        {
            ReadStart(ref reader, JsonTokenType.StartArray, Path);
            var index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new ModelFormatException($"trees[{index}] is not an object");
                }

                ReadTree(ref reader, index);
                index++;
            }
        }

        private void ReadTree(ref Utf8JsonReader reader, int index)
        {
            var at = $"trees[{index}]";
            left.Clear();
            right.Clear();
            splitIndex.Clear();
            condition.Clear();
            defaultLeft.Clear();
            splitType.Clear();
            bool sawLeft = false, sawRight = false, sawIndex = false, sawCondition = false, sawDefault = false;
            var categorical = false;
            int? id = null;
            int? declaredNodes = null;
            var statistics = new Dictionary<string, int>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader, seen, at, out var name))
            {
                Path = at + "." + name;
                switch (name)
                {
                    case "id":
                        id = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : throw new ModelFormatException($"'{Path}' should be a whole number but is {reader.TokenType}");
                        break;
                    case "left_children":
                        ReadInts(ref reader, left);
                        sawLeft = true;
                        break;
                    case "right_children":
                        ReadInts(ref reader, right);
                        sawRight = true;
                        break;
                    case "split_indices":
                        ReadInts(ref reader, splitIndex);
                        sawIndex = true;
                        break;
                    case "split_conditions":
                        ReadFloats(ref reader, condition);
                        sawCondition = true;
                        break;
                    case "default_left":
                        ReadBools(ref reader, defaultLeft);
                        sawDefault = true;
                        break;
                    case "split_type":
                        ReadInts(ref reader, splitType);
                        break;
                    case "parents" or "loss_changes" or "sum_hessian" or "base_weights":
                        // Not scored, but XGBoost refuses a tree whose per-node arrays disagree: so does DarkShip.
                        statistics[name] = CountArray(ref reader);
                        break;
                    case "categories" or "categories_nodes" or "categories_segments" or "categories_sizes":
                        scratchInts.Clear();
                        ReadInts(ref reader, scratchInts);
                        categorical |= scratchInts.Count > 0;
                        break;
                    case "tree_param":
                        treeParams.Clear();
                        ReadStringMap(ref reader, treeParams);
                        if (treeParams.TryGetValue("size_leaf_vector", out var leafVector) && leafVector is not "0" and not "1")
                        {
                            throw new ModelFormatException($"{at} has vector leaves (size_leaf_vector {leafVector}); DarkShip does not score them");
                        }

                        declaredNodes = treeParams.TryGetValue("num_nodes", out var nodesText) && int.TryParse(nodesText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var nodes) ? nodes : -1;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            foreach (var type in splitType.Span)
            {
                categorical |= type != 0;
            }

            if (categorical)
            {
                throw new ModelFormatException(
                    $"{at} has categorical splits; DarkShip refuses categorical models rather than risk a wrong score (retrain with one-hot or ordinal encoding)");
            }

            var missing = id is null ? "id" : !sawLeft ? "left_children" : !sawRight ? "right_children" : !sawIndex ? "split_indices" : !sawCondition ? "split_conditions" : !sawDefault ? "default_left" : null;
            if (missing is not null)
            {
                throw new ModelFormatException($"{at} has no '{missing}'");
            }

            if (declaredNodes is null)
            {
                throw new ModelFormatException($"{at} has no 'tree_param'");
            }

            foreach (var array in new[] { "parents", "loss_changes", "sum_hessian", "base_weights" })
            {
                if (!statistics.TryGetValue(array, out var length))
                {
                    throw new ModelFormatException($"{at} has no '{array}'");
                }

                if (length != left.Count)
                {
                    throw new ModelFormatException($"{at}.{array} has {length} entries for {left.Count} nodes");
                }
            }

            if (declaredNodes != left.Count)
            {
                throw new ModelFormatException($"{at}.tree_param.num_nodes is {declaredNodes}, but the tree has {left.Count} nodes");
            }

            if (splitType.Count != 0 && splitType.Count != left.Count)
            {
                throw new ModelFormatException($"{at}.split_type has {splitType.Count} entries for {left.Count} nodes");
            }

            treeIds.Add(id!.Value);
            builder.AddTree(index, left.Span, right.Span, splitIndex.Span, condition.Span, defaultLeft.Span);
        }

        /// <summary>The next member of the object being read; a name seen before in it is refused, never merged.</summary>
        private static bool NextProperty(ref Utf8JsonReader reader, HashSet<string> seen, string path, out string name)
        {
            if (!reader.Read())
            {
                throw new ModelFormatException("the model ends in the middle of an object (truncated file?)");
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                name = string.Empty;
                return false;
            }

            name = reader.GetString()!;
            if (!seen.Add(name))
            {
                throw new ModelFormatException($"'{path}' has the member '{name}' twice; a model must say each thing once");
            }

            if (!reader.Read())
            {
                throw new ModelFormatException($"the model ends after property '{name}' (truncated file?)");
            }

            return true;
        }

        private static void ReadStart(ref Utf8JsonReader reader, JsonTokenType expected, string path)
        {
            if (reader.TokenType == JsonTokenType.None && !reader.Read())
            {
                throw new ModelFormatException("the model file is empty");
            }

            if (reader.TokenType != expected)
            {
                var what = expected == JsonTokenType.StartObject ? "an object" : "an array";
                throw new ModelFormatException($"'{path}' should be {what} but is {reader.TokenType}");
            }
        }

        private string ReadString(ref Utf8JsonReader reader) =>
            reader.TokenType == JsonTokenType.String
                ? reader.GetString()!
                : throw new ModelFormatException($"'{Path}' should be a string but is {reader.TokenType}");

        private void ReadStrings(ref Utf8JsonReader reader, List<string> into)
        {
            into.Clear();
            ReadStart(ref reader, JsonTokenType.StartArray, Path);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                into.Add(ReadString(ref reader));
            }
        }

        private void ReadStringMap(ref Utf8JsonReader reader, Dictionary<string, string> into)
        {
            var at = Path;
            ReadStart(ref reader, JsonTokenType.StartObject, at);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader, seen, at, out var name))
            {
                Path = at + "." + name;
                into[name] = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString()!,
                    JsonTokenType.Number => reader.GetDouble().ToString("R", CultureInfo.InvariantCulture),
                    _ => throw new ModelFormatException($"'{Path}' should be a string or a number but is {reader.TokenType}"),
                };
            }
        }

        private void ReadInts(ref Utf8JsonReader reader, ArrayBuffer<int> into)
        {
            ReadStart(ref reader, JsonTokenType.StartArray, Path);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                into.Add(reader.GetInt32());
            }
        }

        /// <summary>The length of an array of numbers, each checked to be a number.</summary>
        private int CountArray(ref Utf8JsonReader reader)
        {
            ReadStart(ref reader, JsonTokenType.StartArray, Path);
            var count = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number)
                {
                    throw new ModelFormatException($"'{Path}' should hold numbers but holds {reader.TokenType}");
                }

                count++;
            }

            return count;
        }

        private void ReadFloats(ref Utf8JsonReader reader, ArrayBuffer<float> into)
        {
            ReadStart(ref reader, JsonTokenType.StartArray, Path);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                into.Add(reader.GetSingle());
            }
        }

        private void ReadBools(ref Utf8JsonReader reader, ArrayBuffer<bool> into)
        {
            ReadStart(ref reader, JsonTokenType.StartArray, Path);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                into.Add(reader.TokenType switch
                {
                    JsonTokenType.True => true,
                    JsonTokenType.False => false,
                    JsonTokenType.Number when reader.TryGetInt32(out var flag) && flag is 0 or 1 => flag == 1,
                    _ => throw new ModelFormatException($"'{Path}' holds {(reader.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(reader.ValueSpan) : reader.TokenType.ToString())}; a default direction is 0, 1, true or false"),
                });
            }
        }
    }
}
