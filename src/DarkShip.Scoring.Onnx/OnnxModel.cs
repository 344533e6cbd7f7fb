using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DarkShip.Scoring.Onnx;

/// <summary>One ONNX input and where its values come from in a row.</summary>
/// <param name="Name">The input's name.</param>
/// <param name="Source">The row position (-1: the whole row, as one <c>[N, F]</c> tensor).</param>
/// <param name="Type">float, bool or string.</param>
/// <param name="Width">Values per row (the feature count for the whole row, else 1).</param>
/// <param name="Labels">A string input's labels by category code.</param>
internal sealed record OnnxInput(string Name, int Source, TensorElementType Type, int Width, string[]? Labels);

/// <summary>
/// An ONNX model behind <see cref="IModel"/>, scored by ONNX Runtime on the CPU. The session is shared
/// (ONNX Runtime's <c>Run</c> is thread-safe); each call rents input and output buffers bound once to
/// ONNX Runtime values, so a warm single-row call allocates only what ONNX Runtime's own wrapper does.
/// </summary>
public sealed class OnnxModel : IModel, IDisposable
{
    private const int BatchRows = 512;

    private readonly InferenceSession session;
    private readonly OnnxInput[] inputs;
    private readonly string[] inputNames;
    private readonly string[] outputNames;
    private readonly SessionPool<Bound> bound;
    private int outputWidth;
    private int outputRank;

    internal OnnxModel(InferenceSession session, ModelSignature signature, OnnxInput[] inputs, string output)
    {
        this.session = session;
        this.inputs = inputs;
        inputNames = [.. inputs.Select(i => i.Name)];
        outputNames = [output];
        Signature = signature;
        Inputs = signature.Inputs;
        FeatureNames = [.. signature.Inputs.Select(i => i.Name)];
        bound = new SessionPool<Bound>(() => new Bound(this));
    }

    /// <summary>What the model reads and gives, as bound.</summary>
    public ModelSignature Signature { get; }

    /// <inheritdoc />
    public int FeatureCount => Inputs.Count;

    /// <inheritdoc />
    public IReadOnlyList<string> FeatureNames { get; }

    /// <inheritdoc />
    public IReadOnlyList<ModelInput> Inputs { get; }

    /// <summary>ONNX classifiers give probabilities only: no margin.</summary>
    public bool HasMargin => false;

    /// <inheritdoc />
    public int GetOutputCount(OutputKind kind) => Signature.Task == ModelTask.Multiclass ? outputWidth : 1;

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> features, Span<float> output, OutputKind kind = OutputKind.Transformed)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"The row has {features.Length} values; the model reads {FeatureCount}.", nameof(features));
        }

        var count = GetOutputCount(kind);
        if (output.Length < count)
        {
            throw new ArgumentException($"The output holds {output.Length} values; the model writes {count}.", nameof(output));
        }

        var buffers = bound.Rent();
        buffers.Score(features, output);
        bound.Return(buffers); // not returned when ONNX Runtime threw
    }

    /// <inheritdoc />
    public void PredictBatch(ReadOnlySpan<float> rows, Span<float> output, OutputKind kind = OutputKind.Transformed)
    {
        if (FeatureCount == 0 || rows.Length % FeatureCount != 0)
        {
            throw new ArgumentException($"The rows hold {rows.Length} values, not a multiple of the model's {FeatureCount} features.", nameof(rows));
        }

        var count = rows.Length / FeatureCount;
        var width = GetOutputCount(kind);
        if (output.Length < count * width)
        {
            throw new ArgumentException($"The output holds {output.Length} values; {count} rows need {count * width}.", nameof(output));
        }

        for (var start = 0; start < count; start += BatchRows)
        {
            var n = Math.Min(BatchRows, count - start);
            ScoreChunk(rows.Slice(start * FeatureCount, n * FeatureCount), n, output.Slice(start * width, n * width));
        }
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();

    /// <summary>Runs one row of defaults to learn the output's shape (some exporters leave it symbolic).</summary>
    internal int MeasureOutputWidth()
    {
        var values = Values(new float[FeatureCount], 1);
        try
        {
            using var options = new RunOptions();
            using var results = session.Run(options, inputNames, values, outputNames);
            var shape = results[0].GetTensorTypeAndShape().Shape;
            outputRank = shape.Length;
            outputWidth = shape.Length >= 2 ? (int)shape[^1] : 1;
            return outputWidth;
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFormatException($"a trial score of a row of zeros failed: {e.Message}", e);
        }
        finally
        {
            Dispose(values);
        }
    }

    private void ScoreChunk(ReadOnlySpan<float> rows, int count, Span<float> output)
    {
        var values = Values(rows, count);
        try
        {
            using var options = new RunOptions();
            using var results = session.Run(options, inputNames, values, outputNames);
            var scores = results[0].GetTensorDataAsSpan<float>();
            var width = GetOutputCount(OutputKind.Transformed);
            for (var r = 0; r < count; r++)
            {
                Read(scores.Slice(r * outputWidth, outputWidth), output.Slice(r * width, width));
            }
        }
        finally
        {
            Dispose(values);
        }
    }

    /// <summary>The model's output for one row, as DarkShip reads it: a binary classifier's positive-class probability, else every value.</summary>
    private void Read(ReadOnlySpan<float> scores, Span<float> output)
    {
        if (Signature.Task == ModelTask.Multiclass)
        {
            scores.CopyTo(output);
        }
        else
        {
            output[0] = scores[^1];
        }
    }

    private static void Dispose(List<OrtValue> values)
    {
        foreach (var value in values)
        {
            value.Dispose();
        }
    }

    /// <summary>ONNX Runtime values for <paramref name="count"/> rows (batch scoring: made per call).</summary>
    private List<OrtValue> Values(ReadOnlySpan<float> rows, int count)
    {
        var values = new List<OrtValue>(inputs.Length);
        foreach (var input in inputs)
        {
            var shape = Shape(input, count);
            if (input.Source < 0)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(rows.ToArray(), shape));
                continue;
            }

            switch (input.Type)
            {
                case TensorElementType.Float:
                    var floats = new float[count];
                    for (var r = 0; r < count; r++)
                    {
                        floats[r] = rows[(r * FeatureCount) + input.Source];
                    }

                    values.Add(OrtValue.CreateTensorValueFromMemory(floats, shape));
                    break;
                case TensorElementType.Bool:
                    var flags = new bool[count];
                    for (var r = 0; r < count; r++)
                    {
                        flags[r] = rows[(r * FeatureCount) + input.Source] == 1f;
                    }

                    values.Add(OrtValue.CreateTensorValueFromMemory(flags, shape));
                    break;
                default:
                    var text = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
                    for (var r = 0; r < count; r++)
                    {
                        text.StringTensorSetElementAt(Label(input, rows[(r * FeatureCount) + input.Source]).AsSpan(), r);
                    }

                    values.Add(text);
                    break;
            }
        }

        return values;
    }

    private long[] Shape(OnnxInput input, int count) =>
        session.InputMetadata[input.Name].Dimensions.Length == 1 ? [count * input.Width] : [count, input.Width];

    private static string Label(OnnxInput input, float code) =>
        code >= 0 && code < input.Labels!.Length && code == MathF.Floor(code) ? input.Labels[(int)code] : "";

    /// <summary>One caller's input and output buffers, bound once to ONNX Runtime values.</summary>
    private sealed class Bound
    {
        private readonly OnnxModel model;
        private readonly float[][] floats;
        private readonly bool[][] flags;
        private readonly OrtValue[] values;
        private readonly float[] scores;
        private readonly OrtIoBinding binding;
        private readonly RunOptions options = new();

        public Bound(OnnxModel model)
        {
            this.model = model;
            var inputs = model.inputs;
            floats = new float[inputs.Length][];
            flags = new bool[inputs.Length][];
            values = new OrtValue[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                var shape = model.Shape(inputs[i], 1);
                values[i] = inputs[i].Type switch
                {
                    TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(floats[i] = new float[inputs[i].Width], shape),
                    TensorElementType.Bool => OrtValue.CreateTensorValueFromMemory(flags[i] = new bool[1], shape),
                    _ => OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape),
                };
            }

            scores = new float[model.outputWidth];
            var output = OrtValue.CreateTensorValueFromMemory(scores, model.outputRank >= 2 ? [1, model.outputWidth] : [model.outputWidth]);

            // Inputs and output bound once: a call runs on the bound buffers without marshalling names and values again.
            binding = model.session.CreateIoBinding();
            for (var i = 0; i < inputs.Length; i++)
            {
                binding.BindInput(inputs[i].Name, values[i]);
            }

            binding.BindOutput(model.outputNames[0], output);
        }

        public void Score(ReadOnlySpan<float> row, Span<float> output)
        {
            var inputs = model.inputs;
            for (var i = 0; i < inputs.Length; i++)
            {
                var input = inputs[i];
                if (input.Source < 0)
                {
                    row.CopyTo(floats[i]);
                }
                else if (input.Type == TensorElementType.Float)
                {
                    floats[i][0] = row[input.Source];
                }
                else if (input.Type == TensorElementType.Bool)
                {
                    flags[i][0] = row[input.Source] == 1f;
                }
                else
                {
                    values[i].StringTensorSetElementAt(Label(input, row[input.Source]).AsSpan(), 0);
                }
            }

            model.session.RunWithBinding(options, binding);
            model.Read(scores, output);
        }
    }
}
