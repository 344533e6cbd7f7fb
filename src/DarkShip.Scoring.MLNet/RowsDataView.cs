using Microsoft.ML;
using Microsoft.ML.Data;

namespace DarkShip.Scoring.MLNet;

/// <summary>
/// Rows in memory (floats in signature order, with a label) as an ML.NET <see cref="IDataView"/>, typed as
/// <see cref="MLNetModelReader"/> binds a model: numbers <c>Single</c>, booleans <c>Boolean</c>,
/// categories text (their labels), so a model trained on it scores through the same binding.
/// </summary>
internal sealed class RowsDataView : IDataView
{
    private readonly ModelSignature signature;
    private readonly IReadOnlyList<float[]> rows;
    private readonly IReadOnlyList<float> labels;
    private readonly ReadOnlyMemory<char>[]?[] categoryLabels;
    private readonly ReadOnlyMemory<char>[]? classLabels;

    public RowsDataView(ModelSignature signature, IReadOnlyList<float[]> rows, IReadOnlyList<float> labels, string labelColumn)
    {
        this.signature = signature;
        this.rows = rows;
        this.labels = labels;
        categoryLabels = [.. signature.Inputs.Select(i => i.Categories?.Select(c => c.AsMemory()).ToArray())];
        var builder = new DataViewSchema.Builder();
        foreach (var input in signature.Inputs)
        {
            builder.AddColumn(input.Name, input.Kind switch
            {
                InputKind.Boolean => BooleanDataViewType.Instance,
                InputKind.Category => TextDataViewType.Instance,
                _ => NumberDataViewType.Single,
            });
        }

        DataViewType labelType = signature.Task switch
        {
            ModelTask.Probability => BooleanDataViewType.Instance,
            ModelTask.Multiclass => TextDataViewType.Instance,
            _ => NumberDataViewType.Single,
        };
        if (signature.Task == ModelTask.Multiclass)
        {
            classLabels = ClassLabels(signature, labels);
        }

        builder.AddColumn(labelColumn, labelType);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    /// <summary>A multiclass model's class labels by index: the signature's, else the index itself, for every index a label uses.</summary>
    public static ReadOnlyMemory<char>[] ClassLabels(ModelSignature signature, IReadOnlyList<float> labels)
    {
        var count = (int)labels.Where(float.IsFinite).DefaultIfEmpty(0).Max() + 1;
        return [.. Enumerable.Range(0, Math.Max(count, signature.Classes?.Count ?? 0))
            .Select(i => (signature.Classes is { } c && i < c.Count ? c[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture)).AsMemory())];
    }

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => rows.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(RowsDataView view) : InMemoryCursor(view.Schema, view.rows.Count)
    {
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var index = column.Index;
            Delegate getter;
            if (index == view.signature.Inputs.Count)
            {
                getter = view.signature.Task switch
                {
                    ModelTask.Probability => (ValueGetter<bool>)((ref bool value) => value = view.labels[(int)Position] != 0),
                    ModelTask.Multiclass => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = view.classLabels![(int)view.labels[(int)Position]]),
                    _ => (ValueGetter<float>)((ref float value) => value = view.labels[(int)Position]),
                };
            }
            else
            {
                getter = view.signature.Inputs[index].Kind switch
                {
                    InputKind.Boolean => (ValueGetter<bool>)((ref bool value) => value = view.rows[(int)Position][index] == 1f),
                    InputKind.Category => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) =>
                    {
                        var code = view.rows[(int)Position][index];
                        var known = view.categoryLabels[index]!;
                        value = code >= 0 && code < known.Length && code == MathF.Floor(code) ? known[(int)code] : ReadOnlyMemory<char>.Empty;
                    }),
                    _ => (ValueGetter<float>)((ref float value) => value = view.rows[(int)Position][index]),
                };
            }

            return (ValueGetter<TValue>)getter;
        }
    }
}

/// <summary>One text column of labels, in order: the key values a multiclass label is mapped with.</summary>
internal sealed class LabelsDataView(ReadOnlyMemory<char>[] labels) : IDataView
{
    private readonly ReadOnlyMemory<char>[] labels = labels;

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; } = Build();

    public long? GetRowCount() => labels.Length;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private static DataViewSchema Build()
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("label", TextDataViewType.Instance);
        return builder.ToSchema();
    }

    private sealed class Cursor(LabelsDataView view) : InMemoryCursor(view.Schema, view.labels.Length)
    {
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            (ValueGetter<TValue>)(Delegate)(ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = view.labels[(int)Position]);
    }
}

/// <summary>A forward cursor over rows held in memory, every column active; subclasses give the getters.</summary>
internal abstract class InMemoryCursor(DataViewSchema schema, int count) : DataViewRowCursor
{
    private long position = -1;

    public override long Batch => 0;

    public override long Position => position;

    public override DataViewSchema Schema => schema;

    public override bool MoveNext() => ++position < count;

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

    public override bool IsColumnActive(DataViewSchema.Column column) => true;
}
