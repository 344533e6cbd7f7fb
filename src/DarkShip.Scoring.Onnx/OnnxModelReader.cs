using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DarkShip.Scoring.Onnx;

/// <summary>
/// Reads an ONNX model (from scikit-learn, LightGBM, XGBoost or PyTorch exporters) for ONNX Runtime on
/// the CPU and binds it to a <see cref="ModelSignature"/>. Two input layouts are understood: one float
/// tensor <c>[N, F]</c> that takes the whole row in order (what tree and linear exporters write), or one
/// <c>[N, 1]</c> tensor per feature, named by the feature (float for numbers, bool for booleans, string for
/// categories). The output is a float tensor: a binary classifier's probabilities (<c>[N, 2]</c>: the
/// positive class's is read) or probability (<c>[N, 1]</c>), a regression's value, a multiclass model's
/// class probabilities. Exporters' ZipMap outputs (a sequence of maps) are not read: export without them.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>Loads <paramref name="model"/>; with a <paramref name="signature"/>, every disagreement is reported at once.</summary>
    /// <exception cref="ModelFormatException">Not an ONNX model ONNX Runtime can load, or not one that fits <paramref name="signature"/>.</exception>
    public static OnnxModel Read(ReadOnlySpan<byte> model, ModelSignature? signature)
    {
        InferenceSession session;
        try
        {
            using var options = new SessionOptions
            {
                // One row is scored on the calling thread; requests are the parallelism.
                IntraOpNumThreads = 1,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            session = new InferenceSession(model.ToArray(), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFormatException($"not an ONNX model ONNX Runtime can load: {e.Message}", e);
        }

        try
        {
            var problems = new List<string>();
            var (inputs, layout) = Inputs(session, signature, problems);
            var (task, output, classes) = Output(session, signature, problems);
            if (problems.Count > 0)
            {
                throw new ModelFormatException(problems);
            }

            var bound = new OnnxModel(session, new ModelSignature(inputs, task, classes), layout, output);
            var width = bound.MeasureOutputWidth();
            var expected = task == ModelTask.Multiclass ? signature?.Classes?.Count : null;
            if (task == ModelTask.Multiclass ? width < 2 || (expected is { } c && c != width) : width is not (1 or 2))
            {
                throw new ModelFormatException($"output '{output}': it gives {width} values per row; {task.Describe()} {(task == ModelTask.Multiclass ? $"gives one per class ({expected?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "at least 2"})" : "gives 1 (or 2 class probabilities)")}");
            }

            return bound;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static (IReadOnlyList<ModelInput>, OnnxInput[]) Inputs(InferenceSession session, ModelSignature? signature, List<string> problems)
    {
        var names = session.InputNames;
        var metadata = session.InputMetadata;
        if (names.Count == 1 && metadata[names[0]] is { IsTensor: true, ElementDataType: TensorElementType.Float } whole && whole.Dimensions.Length == 2 && (signature is null || signature.Inputs.Count != 1 || names[0] != signature.Inputs[0].Name))
        {
            var width = whole.Dimensions[1];
            if (width <= 0 && signature is null)
            {
                problems.Add($"input '{names[0]}': its width is not fixed in the model; give the features in a manifest");
                return ([], []);
            }

            if (signature is not null && width > 0 && width != signature.Inputs.Count)
            {
                problems.Add($"the ONNX model reads one tensor '{names[0]}' of {width} values per row; the manifest lists {signature.Inputs.Count} features");
            }

            var inputs = signature?.Inputs ?? [.. Enumerable.Range(0, width).Select(i => new ModelInput($"f{i}", InputKind.Number))];
            return (inputs, [new OnnxInput(names[0], -1, TensorElementType.Float, inputs.Count, null)]);
        }

        var bound = new List<OnnxInput>();
        var own = new List<ModelInput>();
        var byName = signature?.Inputs.Select((input, i) => (input, i)).ToDictionary(p => p.input.Name, p => p.i, StringComparer.Ordinal);
        foreach (var name in names)
        {
            var node = metadata[name];
            if (!node.IsTensor || node.Dimensions.Length is not (1 or 2) || (node.Dimensions.Length == 2 && node.Dimensions[1] is not (1 or -1)))
            {
                problems.Add($"input '{name}': DarkShip gives one [N, F] float tensor or one [N, 1] tensor per feature; this input is {Describe(node)}");
                continue;
            }

            var kind = node.ElementDataType switch
            {
                TensorElementType.Float => InputKind.Number,
                TensorElementType.Bool => InputKind.Boolean,
                TensorElementType.String => InputKind.Category,
                _ => (InputKind?)null,
            };
            if (kind is null)
            {
                problems.Add($"input '{name}': its elements are {node.ElementDataType}; DarkShip gives float, bool or string");
                continue;
            }

            if (byName is null)
            {
                if (kind == InputKind.Category)
                {
                    problems.Add($"input '{name}' is text, and the model does not say which labels it knows: give the labels in a manifest");
                    continue;
                }

                bound.Add(new OnnxInput(name, own.Count, node.ElementDataType, 1, null));
                own.Add(new ModelInput(name, kind.Value));
                continue;
            }

            if (!byName.TryGetValue(name, out var source))
            {
                problems.Add($"the ONNX model reads input '{name}' ({node.ElementDataType}), which the manifest does not list");
                continue;
            }

            var given = signature!.Inputs[source];
            var fits = (kind, given.Kind) switch
            {
                (InputKind.Number, InputKind.Number or InputKind.Boolean) => true,
                (InputKind.Boolean, InputKind.Boolean) => true,
                (InputKind.Category, InputKind.Category) => true,
                _ => false,
            };
            if (!fits)
            {
                problems.Add($"features '{given.Name}': the manifest gives a {given.Kind.ToString().ToLowerInvariant()}; the ONNX input is {node.ElementDataType} (numbers are float, booleans bool or float, categories string)");
                continue;
            }

            bound.Add(new OnnxInput(name, source, node.ElementDataType, 1, given.Categories?.ToArray()));
        }

        if (signature is not null)
        {
            foreach (var unread in signature.Inputs.Where(i => !names.Contains(i.Name)))
            {
                problems.Add($"features '{unread.Name}': the ONNX model has no input of that name");
            }
        }

        return (signature?.Inputs ?? own, [.. bound]);
    }

    private static (ModelTask, string, IReadOnlyList<string>?) Output(InferenceSession session, ModelSignature? signature, List<string> problems)
    {
        var floats = session.OutputNames.Where(n => session.OutputMetadata[n] is { IsTensor: true, ElementDataType: TensorElementType.Float }).ToList();
        var probability = floats.FirstOrDefault(n => n.Contains("prob", StringComparison.OrdinalIgnoreCase));
        if (floats.Count == 0)
        {
            var zipMap = session.OutputNames.Any(n => !session.OutputMetadata[n].IsTensor);
            problems.Add(zipMap
                ? "the ONNX model's outputs are not float tensors (a ZipMap's sequence of maps?): export the classifier without ZipMap (zipmap=False / ZipMap off)"
                : "the ONNX model has no float tensor output to read a score from");
            return (ModelTask.Regression, "", null);
        }

        var chosen = probability ?? (floats.Count == 1 ? floats[0] : null);
        if (chosen is null)
        {
            problems.Add($"the ONNX model has several float outputs ({string.Join(", ", floats)}) and none is named for probabilities: keep one");
            return (ModelTask.Regression, "", null);
        }

        var dimensions = session.OutputMetadata[chosen].Dimensions;
        var width = dimensions.Length >= 2 ? dimensions[^1] : 1;
        var own = probability is not null
            ? width > 2 ? ModelTask.Multiclass : ModelTask.Probability
            : width > 1 ? ModelTask.Multiclass : ModelTask.Regression;
        var task = signature?.Task ?? own;
        if (task != own && !(width <= 0 && task == ModelTask.Multiclass))
        {
            problems.Add($"output: the manifest says {task.Describe()}; the ONNX model's output '{chosen}' is {own.Describe()}");
        }

        return (task, chosen, task == ModelTask.Multiclass ? signature?.Classes : null);
    }

    private static string Describe(NodeMetadata node) =>
        node.IsTensor ? $"a {node.ElementDataType} tensor of shape [{string.Join(", ", node.Dimensions)}]" : $"a {node.OnnxValueType}";
}
