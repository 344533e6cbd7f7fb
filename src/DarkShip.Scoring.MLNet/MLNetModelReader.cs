using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace DarkShip.Scoring.MLNet;

/// <summary>
/// Reads an ML.NET model (<c>MLContext.Model.Save(model, data.Schema, "model.zip")</c>) and binds its
/// input columns to a <see cref="ModelSignature"/>: numbers to <c>Single</c> columns, booleans to
/// <c>Boolean</c> (or <c>Single</c>) columns, categories to text columns (e.g. for OneHotEncoding). A
/// model trained on one <c>Single</c> vector column takes the whole row in order instead.
/// </summary>
public static class MLNetModelReader
{
    /// <summary>
    /// Loads <paramref name="zip"/>. With a <paramref name="signature"/>, every way the model disagrees
    /// with it (a column it reads that the signature lacks or types differently, an input it never reads,
    /// the kind of output) is reported at once; without one, the model's own columns are the signature.
    /// </summary>
    /// <exception cref="ModelFormatException">Not an ML.NET model, or not one that fits <paramref name="signature"/>.</exception>
    public static MLNetModel Read(ReadOnlySpan<byte> zip, ModelSignature? signature)
    {
        var context = CreateContext();
        ITransformer transformer;
        DataViewSchema? schema;
        try
        {
            using var stream = new MemoryStream(zip.ToArray(), writable: false);
            transformer = context.Model.Load(stream, out schema);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFormatException($"not an ML.NET model that can be loaded: {e.Message}", e);
        }

        if (schema is null || schema.Count == 0)
        {
            throw new ModelFormatException("the ML.NET model was saved without its input schema: save it with MLContext.Model.Save(model, data.Schema, path)");
        }

        DataViewSchema output;
        IRowToRowMapper mapper;
        try
        {
            output = transformer.GetOutputSchema(schema);
            mapper = transformer.GetRowToRowMapper(schema);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ModelFormatException($"the ML.NET model cannot score rows of its own input schema: {e.Message}", e);
        }

        var problems = new List<string>();
        var (task, outputs, classes) = Outputs(output, signature, problems);
        if (outputs.Count == 0)
        {
            throw new ModelFormatException(problems);
        }

        var needed = mapper.GetDependencies(outputs).OrderBy(c => c.Index).ToList();
        var (inputs, bindings) = signature is null ? OwnInputs(needed, output, problems) : Bind(needed, signature, problems);
        if (problems.Count > 0)
        {
            throw new ModelFormatException(problems);
        }

        return new MLNetModel(mapper, schema, new ModelSignature(inputs, task, classes), bindings, outputs, classCount: classes?.Count ?? Width(outputs[0]));
    }

    /// <summary>An ML.NET context that knows the trainers DarkShip ships (their model loaders are found by assembly).</summary>
    internal static MLContext CreateContext(int? seed = null)
    {
        var context = new MLContext(seed);
        context.ComponentCatalog.RegisterAssembly(typeof(FastTreeBinaryModelParameters).Assembly);
        context.ComponentCatalog.RegisterAssembly(typeof(LightGbmBinaryModelParameters).Assembly);
        return context;
    }

    /// <summary>The columns to read for the task: Probability then Score for a binary classifier, Score otherwise.</summary>
    private static (ModelTask Task, List<DataViewSchema.Column> Outputs, IReadOnlyList<string>? Classes) Outputs(DataViewSchema output, ModelSignature? signature, List<string> problems)
    {
        var probability = Visible(output, "Probability");
        var score = Visible(output, "Score");
        if (score is null)
        {
            problems.Add("the ML.NET model has no Score column: it is not a trained predictor (binary classification, regression or multiclass)");
            return (ModelTask.Regression, [], null);
        }

        ModelTask own;
        if (probability is { } p && p.Type == NumberDataViewType.Single && score.Value.Type == NumberDataViewType.Single)
        {
            own = ModelTask.Probability;
        }
        else if (score.Value.Type is VectorDataViewType { ItemType: var item, Size: >= 2 } && item == NumberDataViewType.Single)
        {
            own = ModelTask.Multiclass;
        }
        else if (score.Value.Type == NumberDataViewType.Single)
        {
            own = ModelTask.Regression;
        }
        else
        {
            problems.Add($"the ML.NET model's Score column is {score.Value.Type}: DarkShip reads a Single (binary, regression) or a vector of Single (multiclass)");
            return (ModelTask.Regression, [], null);
        }

        var task = signature?.Task ?? own;
        if (task != own)
        {
            problems.Add($"output: the manifest says {task.Describe()}; the ML.NET model is {own.Describe()}");
        }

        IReadOnlyList<string>? classes = null;
        if (own == ModelTask.Multiclass)
        {
            var width = Width(score.Value);
            var named = SlotNames(score.Value);
            if (signature?.Classes is { } expected)
            {
                if (expected.Count != width)
                {
                    problems.Add($"classes: the manifest lists {expected.Count} classes; the ML.NET model scores {width}");
                }
                else if (named is not null && !named.SequenceEqual(expected, StringComparer.Ordinal))
                {
                    problems.Add($"classes: the manifest lists [{string.Join(", ", expected)}]; the ML.NET model's classes are [{string.Join(", ", named)}] in this order");
                }

                classes = expected;
            }
            else
            {
                classes = named;
            }
        }

        return (own, own == ModelTask.Probability ? [probability!.Value, score.Value] : [score.Value], classes);
    }

    private static (IReadOnlyList<ModelInput>, ColumnBinding[]) Bind(List<DataViewSchema.Column> needed, ModelSignature signature, List<string> problems)
    {
        if (needed.Count == 1 && needed[0].Type is VectorDataViewType { ItemType: var item, Size: > 0 } vector && item == NumberDataViewType.Single)
        {
            if (vector.Size != signature.Inputs.Count)
            {
                problems.Add($"the ML.NET model reads one vector column '{needed[0].Name}' of {vector.Size} numbers; the manifest lists {signature.Inputs.Count} features");
            }

            return (signature.Inputs, [new ColumnBinding(needed[0].Index, -1, ColumnShape.Vector, null)]);
        }

        var byName = signature.Inputs.Select((input, i) => (input, i)).ToDictionary(p => p.input.Name, p => p.i, StringComparer.Ordinal);
        var bindings = new List<ColumnBinding>();
        foreach (var column in needed)
        {
            if (!byName.TryGetValue(column.Name, out var source))
            {
                problems.Add($"the ML.NET model reads column '{column.Name}' ({column.Type}), which the manifest does not list");
                continue;
            }

            var input = signature.Inputs[source];
            var shape = column.Type switch
            {
                var t when t == NumberDataViewType.Single && input.Kind is InputKind.Number or InputKind.Boolean => ColumnShape.Single,
                BooleanDataViewType when input.Kind == InputKind.Boolean => ColumnShape.Boolean,
                TextDataViewType when input.Kind == InputKind.Category => ColumnShape.Text,
                _ => (ColumnShape?)null,
            };
            if (shape is null)
            {
                problems.Add($"features '{input.Name}': the manifest gives a {Describe(input.Kind)}; the ML.NET model's column is {column.Type} (numbers are Single, booleans Boolean or Single, categories text)");
                continue;
            }

            bindings.Add(new ColumnBinding(column.Index, source, shape.Value, input.Categories?.Select(c => c.AsMemory()).ToArray()));
        }

        foreach (var unread in signature.Inputs.Where(i => needed.All(c => c.Name != i.Name)))
        {
            problems.Add($"features '{unread.Name}': the ML.NET model does not read it");
        }

        return (signature.Inputs, [.. bindings]);
    }

    private static (IReadOnlyList<ModelInput>, ColumnBinding[]) OwnInputs(List<DataViewSchema.Column> needed, DataViewSchema output, List<string> problems)
    {
        if (needed.Count == 1 && needed[0].Type is VectorDataViewType { ItemType: var item, Size: > 0 } vector && item == NumberDataViewType.Single)
        {
            var names = SlotNames(needed[0]) ?? [.. Enumerable.Range(0, vector.Size).Select(i => $"{needed[0].Name}[{i}]")];
            return ([.. names.Select(n => new ModelInput(n, InputKind.Number))], [new ColumnBinding(needed[0].Index, -1, ColumnShape.Vector, null)]);
        }

        var inputs = new List<ModelInput>();
        var bindings = new List<ColumnBinding>();
        foreach (var column in needed)
        {
            switch (column.Type)
            {
                case var t when t == NumberDataViewType.Single:
                    bindings.Add(new ColumnBinding(column.Index, inputs.Count, ColumnShape.Single, null));
                    inputs.Add(new ModelInput(column.Name, InputKind.Number));
                    break;
                case BooleanDataViewType:
                    bindings.Add(new ColumnBinding(column.Index, inputs.Count, ColumnShape.Boolean, null));
                    inputs.Add(new ModelInput(column.Name, InputKind.Boolean));
                    break;
                case TextDataViewType:
                    if (EncodedLabels(output, column.Name) is not { } labels)
                    {
                        problems.Add($"column '{column.Name}' is text, and the model does not say which labels it knows: give the labels in a manifest");
                        continue;
                    }

                    bindings.Add(new ColumnBinding(column.Index, inputs.Count, ColumnShape.Text, [.. labels.Select(l => l.AsMemory())]));
                    inputs.Add(new ModelInput(column.Name, InputKind.Category, labels));
                    break;
                default:
                    problems.Add($"column '{column.Name}' is {column.Type}: DarkShip gives Single, Boolean or text columns");
                    break;
            }
        }

        return (inputs, [.. bindings]);
    }

    /// <summary>The labels a text column is one-hot (or key) encoded with: the slot names of the column that replaces it.</summary>
    private static List<string>? EncodedLabels(DataViewSchema output, string name)
    {
        for (var i = output.Count - 1; i >= 0; i--)
        {
            var column = output[i];
            if (column.Name == name && column.Type is VectorDataViewType && SlotNames(column) is { } slots)
            {
                return slots;
            }
        }

        return null;
    }

    private static List<string>? SlotNames(DataViewSchema.Column column)
    {
        if (!column.HasSlotNames())
        {
            return null;
        }

        var names = default(VBuffer<ReadOnlyMemory<char>>);
        column.GetSlotNames(ref names);
        return [.. names.DenseValues().Select(n => n.ToString())];
    }

    private static DataViewSchema.Column? Visible(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) is { IsHidden: false } column ? column : null;

    private static int Width(DataViewSchema.Column column) => column.Type is VectorDataViewType vector ? vector.Size : 1;

    private static string Describe(InputKind kind) => kind switch
    {
        InputKind.Number => "number",
        InputKind.Boolean => "boolean",
        _ => "category",
    };
}
