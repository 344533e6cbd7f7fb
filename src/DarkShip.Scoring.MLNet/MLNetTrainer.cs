using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace DarkShip.Scoring.MLNet;

/// <summary>The ML.NET trainers <c>darkship train</c> offers.</summary>
public enum TrainerKind
{
    /// <summary>Boosted trees (FastTree; one-versus-all for multiclass).</summary>
    FastTree,

    /// <summary>LightGBM boosted trees.</summary>
    LightGbm,

    /// <summary>A linear model by SDCA (logistic regression, least squares, maximum entropy) on min-max-normalised features, missing numbers replaced by their mean.</summary>
    Sdca,
}

/// <summary>
/// Trains an ML.NET model whose input columns are a <see cref="ModelSignature"/>'s, so
/// <see cref="MLNetModelReader"/> binds it to the same manifest: categories one-hot encoded from their
/// labels, booleans converted to numbers, everything concatenated in signature order.
/// </summary>
public static class MLNetTrainer
{
    private const string Label = "darkship_label";
    private const string Features = "darkship_features";

    /// <summary>
    /// Trains on <paramref name="rows"/> (signature order, NaN = missing) and <paramref name="labels"/>
    /// (1/0; a value; a class index into <see cref="ModelSignature.Classes"/>) and returns the model file, as
    /// <c>MLContext.Model.Save</c> writes it with its input schema. The same rows and seed give the same model.
    /// </summary>
    /// <exception cref="ArgumentException">No rows, or rows and labels of different lengths.</exception>
    public static byte[] Train(ModelSignature signature, IReadOnlyList<float[]> rows, IReadOnlyList<float> labels, TrainerKind trainer, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (rows.Count == 0 || rows.Count != labels.Count)
        {
            throw new ArgumentException($"{rows.Count} rows and {labels.Count} labels: training needs at least one row and a label for each.", nameof(rows));
        }

        cancellationToken.ThrowIfCancellationRequested(); // ML.NET's own cancellation is not public: checked between steps
        var context = MLNetModelReader.CreateContext(seed);
        var data = new RowsDataView(signature, rows, labels, Label);
        var model = Pipeline(context, signature, labels, trainer, seed).Fit(data);
        cancellationToken.ThrowIfCancellationRequested();
        using var zip = new MemoryStream();
        context.Model.Save(model, data.Schema, zip);
        return zip.ToArray();
    }

    private static IEstimator<ITransformer> Pipeline(MLContext context, ModelSignature signature, IReadOnlyList<float> labels, TrainerKind trainer, int seed)
    {
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        if (signature.Task == ModelTask.Multiclass)
        {
            // Keys in the signature's class order, so the Score slots are the classes in that order.
            pipeline = pipeline.Append(context.Transforms.Conversion.MapValueToKey(Label, Label, keyData: new LabelsDataView(RowsDataView.ClassLabels(signature, labels))));
        }

        foreach (var input in signature.Inputs)
        {
            pipeline = input.Kind switch
            {
                InputKind.Category => pipeline.Append(context.Transforms.Categorical.OneHotEncoding(input.Name, input.Name)),
                InputKind.Boolean => pipeline.Append(context.Transforms.Conversion.ConvertType(input.Name, input.Name, DataKind.Single)),
                _ when trainer == TrainerKind.Sdca => pipeline.Append(context.Transforms.ReplaceMissingValues(input.Name, input.Name)),
                _ => pipeline,
            };
        }

        pipeline = pipeline.Append(context.Transforms.Concatenate(Features, [.. signature.Inputs.Select(i => i.Name)]));
        if (trainer == TrainerKind.Sdca)
        {
            pipeline = pipeline.Append(context.Transforms.NormalizeMinMax(Features));
        }

        return pipeline.Append(Trainer(context, signature.Task, trainer, seed));
    }

    private static IEstimator<ITransformer> Trainer(MLContext context, ModelTask task, TrainerKind trainer, int seed)
    {
        var fastTree = new FastTreeBinaryTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = 1, Seed = seed };
        var lightGbm = (int?)1;
        return (task, trainer) switch
        {
            (ModelTask.Probability, TrainerKind.FastTree) => context.BinaryClassification.Trainers.FastTree(fastTree),
            (ModelTask.Probability, TrainerKind.LightGbm) => context.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = lightGbm, Seed = seed }),
            (ModelTask.Probability, _) => context.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = 1 }),
            (ModelTask.Regression, TrainerKind.FastTree) => context.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = 1, Seed = seed }),
            (ModelTask.Regression, TrainerKind.LightGbm) => context.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = lightGbm, Seed = seed }),
            (ModelTask.Regression, _) => context.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = 1 }),
            (_, TrainerKind.FastTree) => context.MulticlassClassification.Trainers.OneVersusAll(context.BinaryClassification.Trainers.FastTree(fastTree), labelColumnName: Label),
            (_, TrainerKind.LightGbm) => context.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = lightGbm, Seed = seed }),
            _ => context.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { LabelColumnName = Label, FeatureColumnName = Features, NumberOfThreads = 1 }),
        };
    }
}
