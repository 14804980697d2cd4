#!/usr/bin/python3
"""The python3-xgboost peer of bench_predictions' churn parts (a benchmark
tool only): trains xgboost.train with the same parameters on the same feature
matrix the C++ side wrote, predicts the evaluation rows, and prints one JSON
line {"train_seconds", "auc", "xgboost_version", ...}. Run with Debian's
/usr/bin/python3 (python3-xgboost, python3-sklearn).

Usage: /usr/bin/python3 bench/predictions/xgboost_peer.py DIR
DIR holds meta.json ({"fit_rows", "eval_rows", "cols", "params": {...}}),
x_fit.f32 / x_eval.f32 (row-major float32, NaN = missing) and y_fit.u8 /
y_eval.u8 (0/1 labels).
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    d = sys.argv[1]
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    cols = int(meta["cols"])
    p = meta["params"]

    def load(name, rows):
        x = np.fromfile(os.path.join(d, "x_" + name + ".f32"), dtype=np.float32).reshape(rows, cols)
        y = np.fromfile(os.path.join(d, "y_" + name + ".u8"), dtype=np.uint8).astype(np.float32)
        return x, y

    x_fit, y_fit = load("fit", int(meta["fit_rows"]))
    x_eval, y_eval = load("eval", int(meta["eval_rows"]))
    threads = int(p["threads"]) or os.cpu_count()
    params = {
        "objective": p["objective"],
        "tree_method": "hist",
        "max_depth": int(p["max_depth"]),
        "eta": float(p["eta"]),
        "subsample": float(p["subsample"]),
        "colsample_bytree": float(p["colsample"]),
        "min_child_weight": float(p["min_child_weight"]),
        "seed": int(p["seed"]),
        "nthread": threads,
        "verbosity": 0,
    }
    # Timed like the C++ side's Booster::Train: matrix construction + boosting.
    t0 = time.perf_counter()
    dfit = xgb.DMatrix(x_fit, label=y_fit, missing=np.nan, nthread=threads)
    booster = xgb.train(params, dfit, num_boost_round=int(p["rounds"]))
    t1 = time.perf_counter()
    pred = booster.predict(xgb.DMatrix(x_eval, missing=np.nan, nthread=threads))
    t2 = time.perf_counter()
    print(json.dumps({
        "train_seconds": t1 - t0,
        "predict_seconds": t2 - t1,
        "auc": float(roc_auc_score(y_eval, pred)),
        "xgboost_version": xgb.__version__,
        "threads": threads,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
