using System.Diagnostics;
using System.Globalization;
using DarkShip.Scoring.XGBoost;

namespace DarkShip.Scoring.Benchmarks;

/// <summary>
/// DarkShip's half of benchmarks/xgboost_side_by_side.py: loads the model the script trained and
/// times load, single-row and batch prediction on the same rows, printing one JSON line.
/// </summary>
internal static class SideBySide
{
    public static void Run(string modelPath, string rowsPath)
    {
        var bytes = File.ReadAllBytes(modelPath);
        var raw = File.ReadAllBytes(rowsPath);
        var rows = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, rows, 0, raw.Length);

        // Load: parse + compile, best of 5 after a warm-up (the file is already in memory).
        XGBoostModelReader.Parse(bytes);
        var load = Best(5, () => XGBoostModelReader.Parse(bytes));
        var model = XGBoostModelReader.Parse(bytes);
        var features = model.FeatureCount;
        var rowCount = rows.Length / features;

        var output = new float[rowCount];
        var single = Best(5, () =>
        {
            for (var r = 0; r < rowCount; r++)
            {
                model.Predict(rows.AsSpan(r * features, features), output.AsSpan(r, 1));
            }
        }) / rowCount;

        var batch = Best(5, () => model.PredictBatch(rows, output));
        var first = output[0];

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < 1000; r++)
        {
            model.Predict(rows.AsSpan((r % rowCount) * features, features), output.AsSpan(0, 1));
        }

        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 1000.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"load_ms\":{load * 1e3:F2},\"single_us\":{single * 1e6:F3},\"batch_ms\":{batch * 1e3:F2},\"rows\":{rowCount},\"bytes_per_prediction\":{allocated},\"trees\":{model.TreeCount},\"nodes\":{model.NodeCount},\"first\":{first:R}}}"));
    }

    private static double Best(int runs, Action action)
    {
        var best = double.MaxValue;
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        return best;
    }
}
