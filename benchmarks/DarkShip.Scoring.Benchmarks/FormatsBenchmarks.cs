using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using DarkShip.Scoring.MLNet;
using DarkShip.Scoring.Onnx;
using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Benchmarks;

/// <summary>
/// The same model family in the three formats DarkShip scores, in one run: DarkShip's engine on an XGBoost
/// model (100 trees of depth 5, 30 features), ONNX Runtime on the same trees as a TreeEnsembleRegressor,
/// and ML.NET on a FastTree model (100 trees, 20 leaves) trained on the same rows. Single row, a batch of
/// 10,000 rows and load time, each with its allocations; ratios against DarkShip's engine per category.
/// Files from benchmarks/formats_fixtures.py; run through benchmarks/formats.sh.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class FormatsBenchmarks
{
    private byte[] xgboostJson = [];
    private byte[] onnxBytes = [];
    private byte[] mlnetZip = [];
    private ModelSignature signature = null!;
    private IModel xgboost = null!;
    private IModel onnx = null!;
    private IModel mlnet = null!;
    private float[] rows = [];
    private float[] output = [];

    [GlobalSetup]
    public void Setup()
    {
        var folder = Path.Combine(Environment.GetEnvironmentVariable("DARKSHIP_BENCH_DIR") ?? Path.Combine(Directory.GetCurrentDirectory(), ".bench"), "formats");
        xgboostJson = File.ReadAllBytes(Path.Combine(folder, "model.json"));
        onnxBytes = File.ReadAllBytes(Path.Combine(folder, "model.onnx"));
        var raw = File.ReadAllBytes(Path.Combine(folder, "rows.f32"));
        rows = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, rows, 0, raw.Length);

        xgboost = XGBoostModelReader.Parse(xgboostJson);
        signature = new ModelSignature([.. Enumerable.Range(0, xgboost.FeatureCount).Select(i => new ModelInput($"f{i}", InputKind.Number))], ModelTask.Probability);
        onnx = OnnxModelReader.Read(onnxBytes, signature);
        var (trainRows, labels) = ReadTrainingSet(Path.Combine(folder, "train.csv"));
        mlnetZip = MLNetTrainer.Train(signature, trainRows, labels, TrainerKind.FastTree, seed: 1, CancellationToken.None);
        mlnet = MLNetModelReader.Read(mlnetZip, signature);
        output = new float[rows.Length / xgboost.FeatureCount];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("single row")]
    public float XGBoostSingleRow() => Single(xgboost);

    [Benchmark, BenchmarkCategory("single row")]
    public float OnnxSingleRow() => Single(onnx);

    [Benchmark, BenchmarkCategory("single row")]
    public float MLNetSingleRow() => Single(mlnet);

    [Benchmark(Baseline = true), BenchmarkCategory("batch of 10,000")]
    public float XGBoostBatch() => Batch(xgboost);

    [Benchmark, BenchmarkCategory("batch of 10,000")]
    public float OnnxBatch() => Batch(onnx);

    [Benchmark, BenchmarkCategory("batch of 10,000")]
    public float MLNetBatch() => Batch(mlnet);

    [Benchmark(Baseline = true), BenchmarkCategory("load")]
    public int XGBoostLoad() => XGBoostModelReader.Parse(xgboostJson).FeatureCount;

    [Benchmark, BenchmarkCategory("load")]
    public int OnnxLoad()
    {
        using var model = OnnxModelReader.Read(onnxBytes, signature);
        return model.FeatureCount;
    }

    [Benchmark, BenchmarkCategory("load")]
    public int MLNetLoad() => MLNetModelReader.Read(mlnetZip, signature).FeatureCount;

    private float Single(IModel model)
    {
        model.Predict(rows.AsSpan(0, model.FeatureCount), output.AsSpan(0, 1));
        return output[0];
    }

    private float Batch(IModel model)
    {
        model.PredictBatch(rows, output);
        return output[^1];
    }

    private static (List<float[]> Rows, List<float> Labels) ReadTrainingSet(string path)
    {
        var rows = new List<float[]>();
        var labels = new List<float>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var cells = line.Split(',');
            labels.Add(float.Parse(cells[0], CultureInfo.InvariantCulture));
            rows.Add([.. cells.Skip(1).Select(c => c.Length == 0 ? float.NaN : float.Parse(c, CultureInfo.InvariantCulture))]);
        }

        return (rows, labels);
    }
}
