using BenchmarkDotNet.Running;
using DarkShip.Scoring.Benchmarks;

// "compare MODEL ROWS": timings for the side-by-side script; anything else: BenchmarkDotNet.
if (args is ["compare", var model, var rows])
{
    SideBySide.Run(model, rows);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ScoringBenchmarks).Assembly).Run(args);
