#!/usr/bin/python3
"""DarkShip's scoring engine side by side with XGBoost 1.7.4 in one run.

Trains two models with real XGBoost on synthetic data with 100 features (500 trees of depth 6,
1000 trees of depth 8), writes them and 10,000 rows (10% missing) to .bench/, times XGBoost's
inplace_predict with nthread=1 (single rows and one batch), then runs DarkShip on the same
files and prints the ratios. Checks that both give the same predictions first.

  /usr/bin/python3 benchmarks/xgboost_side_by_side.py      (or benchmarks/run.sh)
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import xgboost as xgb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, ".bench")
FEATURES, ROWS = 100, 10_000


def best(runs, fn):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def model(name, trees, depth, x, y):
    path = os.path.join(OUT, name + ".json")
    if not os.path.exists(path):
        print(f"training {name} with XGBoost {xgb.__version__} …", flush=True)
        booster = xgb.train({"objective": "binary:logistic", "max_depth": depth, "eta": 0.05, "nthread": 2,
                             "tree_method": "hist", "seed": 1}, xgb.DMatrix(x, y), trees)
        booster.save_model(path)
    booster = xgb.Booster(model_file=path)
    booster.set_param({"nthread": 1})
    return path, booster


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(50_000, FEATURES)).astype(np.float32)
    y = ((x[:, :10].sum(axis=1) + rng.normal(size=len(x)) * 2) > 0).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    rows = rng.normal(size=(ROWS, FEATURES)).astype(np.float32)
    rows[rng.random(rows.shape) < 0.1] = np.nan
    rows_path = os.path.join(OUT, "rows.f32")
    rows.tofile(rows_path)

    subprocess.run(["dotnet", "build", os.path.join(ROOT, "benchmarks/DarkShip.Scoring.Benchmarks"), "-c", "Release",
                    "-o", os.path.join(OUT, "bin"), "--nologo", "-v", "q", "-clp:ErrorsOnly"], check=True)
    print(f"\n{'model':<18}{'measure':<26}{'XGBoost 1.7.4':>16}{'DarkShip':>14}{'ratio':>9}")
    for name, trees, depth in [("trees500_depth6", 500, 6), ("trees1000_depth8", 1000, 8)]:
        path, booster = model(name, trees, depth, x, y)
        load_x = best(3, lambda: xgb.Booster(model_file=path))
        n_single = 2000
        single_x = best(3, lambda: [booster.inplace_predict(rows[i:i + 1]) for i in range(n_single)]) / n_single
        batch_x = best(3, lambda: booster.inplace_predict(rows))
        expected = booster.inplace_predict(rows)

        out = subprocess.run([os.path.join(OUT, "bin", "DarkShip.Scoring.Benchmarks"), "compare", path, rows_path],
                             check=True, capture_output=True, text=True).stdout
        ds = json.loads(out.strip().splitlines()[-1])
        if abs(ds["first"] - float(expected[0])) > 1e-5:
            sys.exit(f"{name}: predictions differ: XGBoost {expected[0]}, DarkShip {ds['first']}")

        def line(measure, xv, dv, unit):
            print(f"{name:<18}{measure:<26}{xv:>13.3f} {unit}{dv:>11.3f} {unit}{xv / dv:>8.1f}x")

        line("single row (µs)", single_x * 1e6, ds["single_us"], "µs")
        line(f"batch {ROWS} rows (ms)", batch_x * 1e3, ds["batch_ms"], "ms")
        line("load: parse+compile (ms)", load_x * 1e3, ds["load_ms"], "ms")
        print(f"{name:<18}{'bytes per single row':<26}{'':>16}{ds['bytes_per_prediction']:>14}")


if __name__ == "__main__":
    main()
