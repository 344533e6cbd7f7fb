using Microsoft.ML;
using Microsoft.ML.Data;

namespace DarkShip.Scoring.MLNet;

/// <summary>How a row's float reaches an ML.NET input column.</summary>
internal enum ColumnShape
{
    /// <summary>A <c>Single</c> column: the float as is.</summary>
    Single,

    /// <summary>A <c>Boolean</c> column: 1 is true; 0, missing or anything else is false.</summary>
    Boolean,

    /// <summary>A text column: the category code's label; a missing or unknown code is empty text (no category).</summary>
    Text,

    /// <summary>One <c>Single</c> vector column that takes the whole row.</summary>
    Vector,
}

/// <summary>One input column of the model and where its value comes from in the row.</summary>
/// <param name="Column">The column's index in the model's input schema.</param>
/// <param name="Source">The row position (-1: the whole row, for <see cref="ColumnShape.Vector"/>).</param>
/// <param name="Shape">How the float becomes the column's value.</param>
/// <param name="Labels">A text column's labels by code.</param>
internal readonly record struct ColumnBinding(int Column, int Source, ColumnShape Shape, ReadOnlyMemory<char>[]? Labels);

/// <summary>
/// An ML.NET model behind <see cref="IModel"/>. ML.NET's row mappers are not thread-safe, so each call
/// rents a session (an input row this model fills, the mapped output row and its getters) from a pool:
/// many threads score at once, and a warm call allocates nothing of its own (ML.NET's transforms
/// reuse their buffers between rows).
/// </summary>
public sealed class MLNetModel : IModel
{
    private readonly IRowToRowMapper mapper;
    private readonly DataViewSchema inputSchema;
    private readonly ColumnBinding[] bindings;
    private readonly DataViewSchema.Column[] outputs;
    private readonly SessionPool<Session> sessions;
    private readonly int outputCount;

    internal MLNetModel(IRowToRowMapper mapper, DataViewSchema inputSchema, ModelSignature signature, ColumnBinding[] bindings, List<DataViewSchema.Column> outputs, int classCount)
    {
        this.mapper = mapper;
        this.inputSchema = inputSchema;
        this.bindings = bindings;
        this.outputs = [.. outputs];
        Signature = signature;
        Inputs = signature.Inputs;
        FeatureNames = [.. signature.Inputs.Select(i => i.Name)];
        outputCount = signature.Task == ModelTask.Multiclass ? classCount : 1;
        sessions = new SessionPool<Session>(() => new Session(this));
    }

    /// <summary>What the model reads and gives, as bound.</summary>
    public ModelSignature Signature { get; }

    /// <inheritdoc />
    public int FeatureCount => Inputs.Count;

    /// <inheritdoc />
    public IReadOnlyList<string> FeatureNames { get; }

    /// <inheritdoc />
    public IReadOnlyList<ModelInput> Inputs { get; }

    /// <summary>A binary classifier's margin is ML.NET's Score column; other tasks give their only output.</summary>
    public bool HasMargin => Signature.Task == ModelTask.Probability;

    /// <inheritdoc />
    public int GetOutputCount(OutputKind kind) => outputCount;

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> features, Span<float> output, OutputKind kind = OutputKind.Transformed)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"The row has {features.Length} values; the model reads {FeatureCount}.", nameof(features));
        }

        if (output.Length < outputCount)
        {
            throw new ArgumentException($"The output holds {output.Length} values; the model writes {outputCount}.", nameof(output));
        }

        var session = sessions.Rent();
        session.Score(features, output, kind);
        sessions.Return(session); // not returned when ML.NET threw: its state is unknown
    }

    /// <inheritdoc />
    public void PredictBatch(ReadOnlySpan<float> rows, Span<float> output, OutputKind kind = OutputKind.Transformed)
    {
        if (FeatureCount == 0 ? rows.Length != 0 : rows.Length % FeatureCount != 0)
        {
            throw new ArgumentException($"The rows hold {rows.Length} values, not a multiple of the model's {FeatureCount} features.", nameof(rows));
        }

        var count = FeatureCount == 0 ? output.Length / outputCount : rows.Length / FeatureCount;
        if (output.Length < count * outputCount)
        {
            throw new ArgumentException($"The output holds {output.Length} values; {count} rows need {count * outputCount}.", nameof(output));
        }

        var session = sessions.Rent();
        for (var r = 0; r < count; r++)
        {
            session.Score(rows.Slice(r * FeatureCount, FeatureCount), output.Slice(r * outputCount, outputCount), kind);
        }

        sessions.Return(session);
    }

    /// <summary>One caller's input row, mapped output row and getters.</summary>
    private sealed class Session
    {
        private readonly MLNetModel model;
        private readonly InputRow input;
        private readonly ValueGetter<float>? first;
        private readonly ValueGetter<float>? margin;
        private readonly ValueGetter<VBuffer<float>>? vector;
        private VBuffer<float> scores;

        public Session(MLNetModel model)
        {
            this.model = model;
            input = new InputRow(model.inputSchema, model.bindings, model.FeatureCount);
            var row = model.mapper.GetRow(input, model.outputs);
            if (model.Signature.Task == ModelTask.Multiclass)
            {
                vector = row.GetGetter<VBuffer<float>>(model.outputs[0]);
            }
            else
            {
                first = row.GetGetter<float>(model.outputs[0]);
                margin = model.outputs.Length > 1 ? row.GetGetter<float>(model.outputs[1]) : first;
            }
        }

        public void Score(ReadOnlySpan<float> features, Span<float> output, OutputKind kind)
        {
            input.Set(features);
            if (vector is not null)
            {
                vector(ref scores);
                scores.CopyTo(output[..model.outputCount]);
                return;
            }

            var value = 0f;
            (kind == OutputKind.Margin ? margin! : first!)(ref value);
            output[0] = value;
        }
    }

    /// <summary>The model's input as one ML.NET row, refilled for every call (its position moves so transforms do not serve a cached value).</summary>
    private sealed class InputRow : DataViewRow
    {
        private readonly DataViewSchema schema;
        private readonly ColumnBinding?[] byColumn;
        private readonly float[] singles;
        private readonly bool[] booleans;
        private readonly ReadOnlyMemory<char>[] texts;
        private readonly float[] row;
        private long position = -1;

        public InputRow(DataViewSchema schema, ColumnBinding[] bindings, int featureCount)
        {
            this.schema = schema;
            byColumn = new ColumnBinding?[schema.Count];
            foreach (var binding in bindings)
            {
                byColumn[binding.Column] = binding;
            }

            singles = new float[schema.Count];
            booleans = new bool[schema.Count];
            texts = new ReadOnlyMemory<char>[schema.Count];
            row = new float[featureCount];
        }

        public override long Batch => 0;

        public override long Position => position;

        public override DataViewSchema Schema => schema;

        public void Set(ReadOnlySpan<float> features)
        {
            features.CopyTo(row);
            for (var c = 0; c < byColumn.Length; c++)
            {
                if (byColumn[c] is not { } binding || binding.Shape == ColumnShape.Vector)
                {
                    continue;
                }

                var value = features[binding.Source];
                switch (binding.Shape)
                {
                    case ColumnShape.Single:
                        singles[c] = value;
                        break;
                    case ColumnShape.Boolean:
                        booleans[c] = value == 1f;
                        break;
                    default:
                        var labels = binding.Labels!;
                        texts[c] = value >= 0 && value < labels.Length && value == MathF.Floor(value) ? labels[(int)value] : ReadOnlyMemory<char>.Empty;
                        break;
                }
            }

            position++;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => byColumn[column.Index] is not null;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var index = column.Index;
            Delegate getter = byColumn[index]?.Shape switch
            {
                ColumnShape.Single => (ValueGetter<float>)((ref float value) => value = singles[index]),
                ColumnShape.Boolean => (ValueGetter<bool>)((ref bool value) => value = booleans[index]),
                ColumnShape.Text => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = texts[index]),
                ColumnShape.Vector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    // Into the caller's buffer (reused from call to call): the caller owns what it is given.
                    var editor = VBufferEditor.Create(ref value, row.Length);
                    row.CopyTo(editor.Values);
                    value = editor.Commit();
                }),
                _ => throw new InvalidOperationException($"Column '{column.Name}' is not read by the model."),
            };
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{column.Name}' is not of type {typeof(TValue).Name}.");
        }
    }
}
