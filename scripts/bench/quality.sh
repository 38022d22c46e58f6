#!/usr/bin/env bash
# Side-by-side quality of `churnctl train` (default --algo auto, no tuning
# flags) against the peer baselines of ../shared/peers/peers.py
# (scikit-learn logistic regression and HistGradientBoosting, XGBoost
# default and early-stopped), on exactly the same train/test split.
#
# Usage: scripts/bench/quality.sh [SHARED_DIR]   (default: ../shared)
# Needs: go, /usr/bin/python3 with python3-sklearn, python3-xgboost, python3-pandas.
# The data files are read in place and never copied into the repository.
set -euo pipefail

cd "$(dirname "$0")/../.."
shared=${1:-../shared}
data=$shared/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/churnctl" ./cmd/churnctl

# bench NAME TRAIN TEST LABEL POSITIVE [peers.py split flags...]
bench() {
	local name=$1 train=$2 test=$3 label=$4 positive=$5
	shift 5
	/usr/bin/python3 "$shared/peers/peers.py" "$@" --label "$label" --positive "$positive" \
		--threads 2 >"$work/$name.peers.jsonl"
	"$work/churnctl" train --table "$train" --label "$label" --positive "$positive" \
		--out "$work/$name.model.json" --json 2>"$work/$name.train.log" >"$work/$name.train.json"
	"$work/churnctl" predict --model "$work/$name.model.json" --table "$test" \
		--out "$work/$name.pred.csv" --eval >"$work/$name.eval.json"
	/usr/bin/python3 - "$name" "$work" <<'PY'
import json, sys
name, work = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(f"{work}/{name}.peers.jsonl")]
train = json.load(open(f"{work}/{name}.train.json"))
ev = json.load(open(f"{work}/{name}.eval.json"))
rows.append({"model": f"churnctl {train['algorithm']}+{train['calibration']}", "fit_s": train["fit_seconds"], **ev})
print(f"\n{name}: train {rows[0]['train_rows']} rows, test {rows[0]['test_rows']} rows")
print(f"{'model':34} {'AUC':>8} {'PR AUC':>8} {'log loss':>9} {'Brier':>8} {'fit s':>7}")
for r in rows:
    print(f"{r['model']:34} {r['auc']:8.4f} {r['pr_auc']:8.4f} {r['log_loss']:9.4f} {r['brier']:8.4f} {r['fit_s']:7.2f}")
peers = rows[:-1]
best_auc = max(r["auc"] for r in peers)
best_brier = min(r["brier"] for r in peers)
ours = rows[-1]
print(f"bar: AUC >= {best_auc - 0.003:.4f} ({'met' if ours['auc'] >= best_auc - 0.003 else 'MISSED'}), "
      f"Brier <= {best_brier + 0.002:.4f} ({'met' if ours['brier'] <= best_brier + 0.002 else 'MISSED'})")
PY
}

bench churn-bigml "$data/churn-bigml-80.csv" "$data/churn-bigml-20.csv" Churn True \
	"$data/churn-bigml-80.csv" --test "$data/churn-bigml-20.csv"

/usr/bin/python3 "$shared/peers/peers.py" "$data/online_shoppers_intention.csv" --label Revenue --positive TRUE \
	--test-fraction 0.25 --seed 7 --only logreg --write-split "$work/shoppers" >/dev/null
bench online-shoppers "$work/shoppers/train.csv" "$work/shoppers/test.csv" Revenue TRUE \
	"$data/online_shoppers_intention.csv" --test-fraction 0.25 --seed 7
