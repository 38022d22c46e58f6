#!/usr/bin/python3
"""Time XGBoost on the table of the Go GBDT speed benchmark.

Reads the CSV written by `go test ./models -run TestWriteBenchCSV` (features,
then a 0/1 `label` column), fits XGBClassifier with the settings of
BenchmarkGBDTFit1M and prints one JSON object with the timings:

    fit_seconds             XGBClassifier.fit on the DataFrame (includes
                            building the quantised matrix, as the Go fit
                            includes binning)
    fit_cpu_seconds         process CPU time (all threads) of the fit
    predict_seconds         predict_proba on the DataFrame
    predict_cpu_seconds     process CPU time of predict_proba
    predict_margin_seconds  Booster.predict(output_margin=True) on a
                            prebuilt DMatrix: tree walking only
    train_logloss           log loss on the training rows, to check that
                            both learners fit comparable models

Usage: /usr/bin/python3 scripts/bench/xgb_speed.py /tmp/bench.csv [threads]
"""

import json
import sys
import time

import numpy as np
import pandas as pd
import xgboost


def main():
    path = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    df = pd.read_csv(path, dtype=np.float64)
    y = df.pop("label").to_numpy()
    clf = xgboost.XGBClassifier(
        tree_method="hist",
        n_estimators=200,
        max_depth=6,
        learning_rate=0.1,
        n_jobs=threads,
        max_bin=256,
        min_child_weight=1,
        reg_lambda=1,
    )

    start, cpu = time.perf_counter(), time.process_time()
    clf.fit(df, y)
    fit, fit_cpu = time.perf_counter() - start, time.process_time() - cpu

    start, cpu = time.perf_counter(), time.process_time()
    p = clf.predict_proba(df)[:, 1]
    predict, predict_cpu = time.perf_counter() - start, time.process_time() - cpu

    dm = xgboost.DMatrix(df, nthread=threads)
    start = time.perf_counter()
    clf.get_booster().predict(dm, output_margin=True)
    margin = time.perf_counter() - start

    p = np.clip(p, 1e-15, 1 - 1e-15)
    logloss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    print(json.dumps({
        "xgboost": xgboost.__version__,
        "rows": len(df),
        "features": df.shape[1],
        "threads": threads,
        "fit_seconds": round(fit, 3),
        "fit_cpu_seconds": round(fit_cpu, 3),
        "predict_seconds": round(predict, 3),
        "predict_cpu_seconds": round(predict_cpu, 3),
        "predict_margin_seconds": round(margin, 3),
        "train_logloss": round(logloss, 6),
    }))


if __name__ == "__main__":
    main()
