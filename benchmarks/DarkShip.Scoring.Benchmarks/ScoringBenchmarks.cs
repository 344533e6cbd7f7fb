using BenchmarkDotNet.Attributes;
using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Benchmarks;

/// <summary>
/// Single-row and batch scoring and model loading, on models trained by real XGBoost
/// (benchmarks/xgboost_side_by_side.py writes them to .bench/). Run through benchmarks/run.sh.
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private byte[] json = [];
    private XGBoostModel model = null!;
    private float[] rows = [];
    private float[] output = [];

    [Params("trees500_depth6", "trees1000_depth8")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var folder = Environment.GetEnvironmentVariable("DARKSHIP_BENCH_DIR") ?? Path.Combine(Directory.GetCurrentDirectory(), ".bench");
        json = File.ReadAllBytes(Path.Combine(folder, Model + ".json"));
        model = XGBoostModelReader.Parse(json);
        var raw = File.ReadAllBytes(Path.Combine(folder, "rows.f32"));
        rows = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, rows, 0, raw.Length);
        output = new float[rows.Length / model.FeatureCount];
    }

    [Benchmark]
    public float SingleRow()
    {
        model.Predict(rows.AsSpan(0, model.FeatureCount), output.AsSpan(0, 1));
        return output[0];
    }

    [Benchmark]
    public float Batch10000Rows()
    {
        model.PredictBatch(rows, output);
        return output[^1];
    }

    [Benchmark]
    public int Load() => XGBoostModelReader.Parse(json).TreeCount;
}
