namespace DarkShip.Scoring;

/// <summary>How one input column's float is read by the model.</summary>
public enum InputKind
{
    /// <summary>A number (a 32-bit float; <see cref="float.NaN"/> is missing).</summary>
    Number,

    /// <summary>1 is true, 0 is false (a missing value reads as false where the model's column is boolean).</summary>
    Boolean,

    /// <summary>The index of a label in <see cref="ModelInput.Categories"/>; <see cref="float.NaN"/> is an unknown or missing label.</summary>
    Category,
}

/// <summary>What a model's scores mean.</summary>
public enum ModelTask
{
    /// <summary>One probability of the positive class.</summary>
    Probability,

    /// <summary>One real value.</summary>
    Regression,

    /// <summary>One probability per class.</summary>
    Multiclass,
}

/// <summary>One input column of a model, in the order rows give them.</summary>
/// <param name="Name">The column's name (the feature's name).</param>
/// <param name="Kind">How its float is read.</param>
/// <param name="Categories">The labels of a category column, in code order; <see langword="null"/> otherwise.</param>
public sealed record ModelInput(string Name, InputKind Kind, IReadOnlyList<string>? Categories = null);

/// <summary>
/// What a model is expected to read and give: the inputs in row order and the kind of output. A model
/// format whose files name their inputs (ML.NET, ONNX) is bound to a signature when it is compiled,
/// and every way the file disagrees with it is reported at once.
/// </summary>
/// <param name="Inputs">The columns of a row, in order.</param>
/// <param name="Task">What the output means.</param>
/// <param name="Classes">A multiclass model's class labels, in output order, when known.</param>
public sealed record ModelSignature(IReadOnlyList<ModelInput> Inputs, ModelTask Task, IReadOnlyList<string>? Classes = null);

/// <summary>How problems name a <see cref="ModelTask"/>.</summary>
public static class ModelTaskText
{
    /// <summary><c>a binary classifier (probability)</c>, <c>a regression</c>, <c>a multiclass classifier</c>.</summary>
    public static string Describe(this ModelTask task) => task switch
    {
        ModelTask.Probability => "a binary classifier (probability)",
        ModelTask.Regression => "a regression",
        _ => "a multiclass classifier",
    };
}
