#!/usr/bin/python3
"""The same model family in three formats, for benchmarks/formats.sh (FormatsBenchmarks):

  .bench/formats/model.json   an XGBoost model (binary:logistic, 100 trees of depth 5, 30 features) — DarkShip's engine
  .bench/formats/model.onnx   the same trees as an ai.onnx.ml TreeEnsembleRegressor + Sigmoid — ONNX Runtime
  .bench/formats/train.csv    the rows it was trained on, labelled — ML.NET FastTree trains on them (100 trees, 20 leaves)
  .bench/formats/rows.f32     10,000 held-out rows (10 % missing), float32, row-major

The ONNX graph is built by tools/fixtures/generate_onnx_fixtures.py's converter (checked against XGBoost there).
"""
import importlib.util
import math
import os

import numpy as np
import xgboost as xgb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, ".bench", "formats")
FEATURES, TRAIN, ROWS = 30, 20_000, 10_000

spec = importlib.util.spec_from_file_location("onnx_fixtures", os.path.join(ROOT, "tools", "fixtures", "generate_onnx_fixtures.py"))
onnx_fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(onnx_fixtures)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(TRAIN + ROWS, FEATURES)).astype(np.float32)
    logit = x[:, 0] * 1.5 - x[:, 1] + 0.5 * x[:, 2] * x[:, 3] + np.sin(x[:, 4] * 2)
    y = (rng.random(TRAIN + ROWS) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    x[rng.random(x.shape) < 0.10] = np.nan
    train, rows = x[:TRAIN], x[TRAIN:]
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 5, "eta": 0.1, "nthread": 2, "seed": 1, "base_score": 0.5},
                        xgb.DMatrix(train, y[:TRAIN], missing=np.nan), 100)
    booster.save_model(os.path.join(OUT, "model.json"))
    import onnx
    onnx.save(onnx_fixtures.to_onnx(booster, FEATURES, 1, 0.0, "sigmoid", "probabilities"), os.path.join(OUT, "model.onnx"))
    with open(os.path.join(OUT, "train.csv"), "w") as f:
        f.write(",".join(["label"] + [f"f{i}" for i in range(FEATURES)]) + "\n")
        for row, label in zip(train, y[:TRAIN]):
            f.write(",".join([str(int(label))] + ["" if math.isnan(v) else repr(float(v)) for v in row]) + "\n")
    rows.astype("<f4").tofile(os.path.join(OUT, "rows.f32"))
    print(f"formats: {OUT}")


if __name__ == "__main__":
    main()
