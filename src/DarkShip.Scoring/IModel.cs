namespace DarkShip.Scoring;

/// <summary>Which numbers a prediction returns.</summary>
public enum OutputKind
{
    /// <summary>The objective's transformed output: a probability, a class, a rate… (XGBoost's default).</summary>
    Transformed = 0,

    /// <summary>The raw margin before the objective's transform (XGBoost's <c>output_margin=True</c>).</summary>
    Margin = 1,
}

/// <summary>
/// A compiled, immutable model. Implementations are safe to call from many threads at once and
/// allocate nothing per prediction.
/// </summary>
public interface IModel
{
    /// <summary>How many input features a row must have, in the model's order.</summary>
    int FeatureCount { get; }

    /// <summary>The feature names the model was trained with, or an empty list when it carries none.</summary>
    IReadOnlyList<string> FeatureNames { get; }

    /// <summary>
    /// The input columns in row order: their names and how each float is read. A model that names no
    /// inputs (an XGBoost model saved without names) gives <c>f0, f1, …</c>, all numbers.
    /// </summary>
    IReadOnlyList<ModelInput> Inputs =>
        [.. Enumerable.Range(0, FeatureCount).Select(i => new ModelInput(FeatureNames.Count == FeatureCount ? FeatureNames[i] : $"f{i}", InputKind.Number))];

    /// <summary>Whether <see cref="OutputKind.Margin"/> can be asked for (a format that gives only probabilities cannot).</summary>
    bool HasMargin => true;

    /// <summary>How many numbers one row produces for <paramref name="kind"/>.</summary>
    int GetOutputCount(OutputKind kind);

    /// <summary>
    /// Scores one row. <see cref="float.NaN"/> marks a missing value. <paramref name="output"/> must hold at
    /// least <see cref="GetOutputCount"/> numbers.
    /// </summary>
    /// <exception cref="ArgumentException">The row or the output span has the wrong length.</exception>
    void Predict(ReadOnlySpan<float> features, Span<float> output, OutputKind kind = OutputKind.Transformed);

    /// <summary>
    /// Scores many rows laid out row-major (<c>rows.Length = rowCount × FeatureCount</c>) into
    /// <paramref name="output"/> (<c>rowCount × GetOutputCount(kind)</c>), on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentException">The spans' lengths do not fit the model.</exception>
    void PredictBatch(ReadOnlySpan<float> rows, Span<float> output, OutputKind kind = OutputKind.Transformed);
}
