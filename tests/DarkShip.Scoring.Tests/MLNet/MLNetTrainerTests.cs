using DarkShip.Scoring.MLNet;

namespace DarkShip.Scoring.Tests.MLNet;

/// <summary>Models trained by <see cref="MLNetTrainer"/> bind to the signature they were trained for, learn, and are reproducible from a seed.</summary>
public sealed class MLNetTrainerTests
{
    private static readonly ModelSignature Binary = new(
        [new ModelInput("amount", InputKind.Number), new ModelInput("is_new", InputKind.Boolean), new ModelInput("category", InputKind.Category, ["grocery", "travel", "online"])],
        ModelTask.Probability);

    public static TheoryData<TrainerKind, ModelTask> Cases => new()
    {
        { TrainerKind.FastTree, ModelTask.Probability },
        { TrainerKind.LightGbm, ModelTask.Probability },
        { TrainerKind.Sdca, ModelTask.Probability },
        { TrainerKind.FastTree, ModelTask.Regression },
        { TrainerKind.Sdca, ModelTask.Regression },
        { TrainerKind.LightGbm, ModelTask.Multiclass },
        { TrainerKind.FastTree, ModelTask.Multiclass },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ATrainedModel_BindsToItsSignature_AndLearnsTheRule(TrainerKind trainer, ModelTask task)
    {
        var signature = Binary with { Task = task, Classes = task == ModelTask.Multiclass ? ["low", "mid", "high"] : null };
        var (rows, labels) = Data(task, 3_000, seed: 1);
        var (heldOut, truth) = Data(task, 500, seed: 2);

        var model = MLNetModelReader.Read(MLNetTrainer.Train(signature, rows, labels, trainer, 7, CancellationToken.None), signature);

        // Learnt: on rows it never saw, most answers are right (class, side of 0.5, or within a tenth of the range).
        var output = new float[3];
        var right = 0;
        for (var r = 0; r < heldOut.Count; r++)
        {
            model.Predict(heldOut[r], output);
            right += task switch
            {
                ModelTask.Probability => (output[0] >= 0.5f) == (truth[r] == 1) ? 1 : 0,
                ModelTask.Regression => Math.Abs(output[0] - truth[r]) < 30 ? 1 : 0,
                _ => Array.IndexOf(output, output.Max()) == (int)truth[r] ? 1 : 0, // Score slots in the signature's class order
            };
        }

        Assert.True(right > 400, $"{right} of 500 right");

        // The same seed, the same rows: the same predictions.
        var again = MLNetModelReader.Read(MLNetTrainer.Train(signature, rows, labels, trainer, 7, CancellationToken.None), signature);
        var (a, b) = (new float[3], new float[3]);
        foreach (var row in heldOut.Take(100))
        {
            model.Predict(row, a);
            again.Predict(row, b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void NoRows_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => MLNetTrainer.Train(Binary, [], [], TrainerKind.FastTree, 7, CancellationToken.None));
    }

    /// <summary>Rows whose label follows a rule of all three kinds of input, with missing amounts and unknown categories.</summary>
    private static (List<float[]> Rows, List<float> Labels) Data(ModelTask task, int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<float[]>();
        var labels = new List<float>();
        for (var i = 0; i < count; i++)
        {
            var amount = (float)(random.NextDouble() * 1000);
            var isNew = random.NextDouble() < 0.3 ? 1f : 0f;
            var category = random.NextDouble() < 0.05 ? float.NaN : random.Next(3);
            var risk = (amount / 1000) + (isNew * 0.4f) + (category == 2 ? 0.3f : 0);
            rows.Add([random.NextDouble() < 0.05 ? float.NaN : amount, isNew, category]);
            labels.Add(task switch
            {
                ModelTask.Probability => risk > 0.8 ? 1 : 0,
                ModelTask.Regression => (risk * 200) + (float)(random.NextDouble() * 10),
                _ => risk < 0.5 ? 0 : risk < 1 ? 1 : 2,
            });
        }

        return (rows, labels);
    }
}
