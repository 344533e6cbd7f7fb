#!/usr/bin/env python3
"""Generates DarkShip's demo: synthetic consumer and store features, and a `fraud` model trained
on them with real XGBoost (python3-xgboost 1.7.4), with its manifest.

Run from the repository root:  python3 demo/generate_demo.py
Writes demo/consumer.csv, demo/store.csv, demo/fraud/model.json, demo/fraud/manifest.json, a
challenger trained on the same rows with other hyperparameters: demo/fraud-challenger/ (version 2), and
the last 6,000 training rows as an export-shaped training set, demo/train.csv, on which `demo seed`
trains the ML.NET challenger (version 3) with `darkship train`'s use case.
Deterministic (fixed seed), so the committed files are exactly what this script writes.
"""
import json
import os

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)

N_CONSUMERS, N_STORES, N_TRAIN = 2000, 200, 40000
N_EXPORT = 6000  # training rows written to demo/train.csv for the ML.NET challenger
CATEGORIES = ["grocery", "electronics", "travel", "gaming"]
SNAPSHOTS = ["2026-11-01T00:00:00Z", "2026-11-15T00:00:00Z"]  # two snapshots per entity: as-of reads see history

def consumers():
    rows = []
    for i in range(1, N_CONSUMERS + 1):
        age = int(rng.integers(1, 3000))
        verified = bool(rng.random() < 0.7)
        base = rng.gamma(2.0, 30.0)
        for ts in SNAPSHOTS:
            rows.append({
                "consumer_id": f"c{i}", "ts": ts,
                "txn_count_7d": int(rng.poisson(3 + 10 * rng.random())),
                "avg_amount_30d": round(float(base * rng.uniform(0.8, 1.2)), 2),
                "account_age_days": age + (14 if ts == SNAPSHOTS[1] else 0),
                "is_verified": verified,
            })
    return rows

def stores():
    rows = []
    for i in range(1, N_STORES + 1):
        category = CATEGORIES[int(rng.integers(0, len(CATEGORIES)))]
        risk = rng.beta(1.2, 40)
        for ts in SNAPSHOTS:
            rows.append({
                "store_id": f"s{i}", "ts": ts,
                "chargeback_rate_90d": round(float(risk * rng.uniform(0.9, 1.1)), 5),
                "category": category,
            })
    return rows

def write_csv(path, rows):
    cols = list(rows[0].keys())
    with open(path, "w", newline="\n") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join(("true" if v else "false") if isinstance(v, bool) else str(v) for v in (r[c] for c in cols)) + "\n")

FEATURES = [
    # name, group, property, type, default, min, max
    ("amount", None, "amount", "number", None, 0, 1e6),
    ("hour_of_day", None, "hour_of_day", "number", None, 0, 23),
    ("txn_count_7d", "consumer", "txn_count_7d", "number", 0, 0, 10000),
    ("avg_amount_30d", "consumer", "avg_amount_30d", "number", None, 0, 1e6),
    ("account_age_days", "consumer", "account_age_days", "number", None, 0, 100000),
    ("is_verified", "consumer", "is_verified", "boolean", False, None, None),
    ("store_chargeback_rate_90d", "store", "chargeback_rate_90d", "number", None, 0, 1),
    ("store_category", "store", "category", "category", None, None, None),
]

def main():
    c_rows, s_rows = consumers(), stores()
    write_csv(os.path.join(HERE, "consumer.csv"), c_rows)
    write_csv(os.path.join(HERE, "store.csv"), s_rows)
    latest_c = {r["consumer_id"]: r for r in c_rows}
    latest_s = {r["store_id"]: r for r in s_rows}

    # Training transactions: consumer, store, amount, hour; fraud from a known logistic rule.
    X = np.zeros((N_TRAIN, len(FEATURES)), dtype=np.float32)
    for n in range(N_TRAIN):
        c = latest_c[f"c{int(rng.integers(1, N_CONSUMERS + 1))}"]
        s = latest_s[f"s{int(rng.integers(1, N_STORES + 1))}"]
        amount = float(rng.gamma(2.0, c["avg_amount_30d"] / 2 + 5))
        X[n] = [amount, int(rng.integers(0, 24)), c["txn_count_7d"], c["avg_amount_30d"], c["account_age_days"],
                1.0 if c["is_verified"] else 0.0, s["chargeback_rate_90d"], CATEGORIES.index(s["category"])]
    ratio = X[:, 0] / (X[:, 3] + 1)
    night = ((X[:, 1] < 6) | (X[:, 1] > 22)).astype(np.float32)
    logit = (-4.5 + 0.9 * np.log1p(ratio) + 0.8 * night + 0.06 * X[:, 2] - 0.0006 * X[:, 4]
             - 1.0 * X[:, 5] + 25 * X[:, 6] + 0.5 * (X[:, 7] == 1) + 0.7 * (X[:, 7] == 3))
    y = (rng.random(N_TRAIN) < 1 / (1 + np.exp(-logit))).astype(np.float32)

    names = [f[0] for f in FEATURES]
    dtrain = xgb.DMatrix(X, label=y, feature_names=names)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "seed": 7,
                         "eval_metric": "logloss", "base_score": 0.5}, dtrain, num_boost_round=60)
    os.makedirs(os.path.join(HERE, "fraud"), exist_ok=True)
    booster.save_model(os.path.join(HERE, "fraud", "model.json"))
    pred = booster.predict(dtrain)

    def histogram(values):
        edges = np.unique(np.quantile(values, np.linspace(0, 1, 11)))
        counts, _ = np.histogram(values, bins=edges)
        return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}

    write_manifest(os.path.join(HERE, "fraud"), "1", X, y, pred, names, histogram)

    # The challenger `./run.sh` puts in the shadow: deeper trees, slower learning, more rounds.
    challenger = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "seed": 11,
                            "eval_metric": "logloss", "base_score": 0.5}, dtrain, num_boost_round=120)
    os.makedirs(os.path.join(HERE, "fraud-challenger"), exist_ok=True)
    challenger.save_model(os.path.join(HERE, "fraud-challenger", "model.json"))
    write_manifest(os.path.join(HERE, "fraud-challenger"), "2", X, y, challenger.predict(dtrain), names, histogram)
    write_training_set(os.path.join(HERE, "train.csv"), X[-N_EXPORT:], y[-N_EXPORT:], names)
    print(f"demo: {len(c_rows)} consumer rows, {len(s_rows)} store rows, fraud model on {N_TRAIN} rows "
          f"(positive rate {y.mean():.3f}, train logloss {logloss(y, pred):.4f}; challenger {logloss(y, challenger.predict(dtrain)):.4f})")

def write_training_set(path, X, y, names):
    """Labelled transactions shaped as `darkship export` writes them (features by the manifest's names,
    a category as its code, a boolean as 1/0): what `demo seed` trains the ML.NET challenger on with
    `darkship train`'s use case."""
    with open(path, "w", newline="\n") as f:
        f.write(",".join(["prediction_id", "label"] + names) + "\n")
        for n, (row, label) in enumerate(zip(X, y)):
            f.write(",".join([f"demo{n}", str(int(label))] + [str(np.float32(v)) for v in row]) + "\n")

def logloss(y, p):
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

def baseline_of(column, kind, histogram):
    """A numeric feature's training histogram (numpy's edges and counts); a boolean's or category's
    count per value (category codes as their labels). Both say how many values were missing."""
    present = column[~np.isnan(column)]
    if kind == "number":
        baseline = histogram(present)
    else:
        codes, counts = np.unique(present.astype(int), return_counts=True)
        values = [bool(c) for c in codes] if kind == "boolean" else [CATEGORIES[c] for c in codes]
        baseline = {"values": values, "counts": [int(c) for c in counts]}
    baseline["missing"] = int(np.isnan(column).sum())
    return baseline

def write_manifest(folder, version, X, y, pred, names, histogram):
    manifest = {
        "name": "fraud", "version": version, "format": "xgboost-json", "output": "probability",
        "groups": {"consumer": {"required": False, "cacheSeconds": 0}, "store": {"required": False, "cacheSeconds": 300}},
        "assignmentGroup": "consumer",
        "features": [
            {k: v for k, v in {"name": n, "group": g, "property": p, "type": t, "default": d, "min": lo, "max": hi,
                               "categories": CATEGORIES if t == "category" else None}.items() if v is not None or k == "default"}
            for (n, g, p, t, d, lo, hi) in FEATURES
        ],
        "decision": {"threshold": 0.5, "above": "review", "below": "approve"},
        "promotionMetric": "logloss",
        "baseline": {"rows": N_TRAIN, "positiveRate": float(y.mean()),
                     "features": {n: baseline_of(X[:, i], FEATURES[i][3], histogram) for i, n in enumerate(names)},
                     "prediction": histogram(pred)},
    }
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")

if __name__ == "__main__":
    main()
