#!/usr/bin/env python3
"""Trains an XGBoost model on a training set written by `darkship export --format csv`.

The model reads the manifest's features, in the manifest's order, by name: the export's columns of
the same names (the features as served, and those `--features` added as of each prediction). Rows
without a label are not trained on. With --predictions, writes XGBoost's own score for every row of
the export (labelled or not), so a replay of the model can be checked against real XGBoost.

Usage: train_from_export.py --input train.csv --manifest manifest.json --output model.json
                            [--predictions scores.csv] [--rounds 20] [--depth 3] [--seed 7]
Needs numpy and xgboost (Debian: python3-xgboost).
"""
import argparse
import csv
import json
import math
import sys

import numpy as np
import xgboost as xgb


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--predictions")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    names = [feature["name"] for feature in manifest["features"]]
    objective = {"probability": "binary:logistic", "regression": "reg:squarederror"}.get(manifest["output"])
    if objective is None:
        sys.exit(f"train_from_export: output '{manifest['output']}' is not supported here (probability or regression)")

    with open(args.input, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [n for n in names if n not in reader.fieldnames]
        if missing:
            sys.exit(f"train_from_export: {args.input} has no column for {', '.join(missing)}")
        rows = list(reader)
    if not rows:
        sys.exit(f"train_from_export: {args.input} holds no rows")

    def value(text):
        return math.nan if text == "" else float(text)

    X = np.array([[value(row[n]) for n in names] for row in rows], dtype=np.float32)
    labelled = np.array([row["label"] != "" for row in rows])
    y = np.array([float(row["label"]) for row in rows if row["label"] != ""], dtype=np.float32)
    if len(y) == 0:
        sys.exit(f"train_from_export: {args.input} holds no labelled rows")

    train = xgb.DMatrix(X[labelled], label=y, feature_names=names, missing=math.nan)
    params = {"objective": objective, "max_depth": args.depth, "eta": 0.3, "seed": args.seed, "tree_method": "exact"}
    booster = xgb.train(params, train, num_boost_round=args.rounds)
    booster.save_model(args.output)

    if args.predictions:
        scores = booster.predict(xgb.DMatrix(X, feature_names=names, missing=math.nan))
        with open(args.predictions, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["prediction_id", "score"])
            for row, score in zip(rows, scores):
                writer.writerow([row["prediction_id"], repr(float(score))])

    print(f"trained {args.output} on {len(y)} labelled rows of {len(rows)} ({len(names)} features, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
