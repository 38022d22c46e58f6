#!/bin/bash
# Trains on a simulated history, in one run: churn and conversion test
# AUC with per-event features on and off, --every renewal against monthly,
# and the oracle ratio (--truth), also against the truth as of the
# observation (early); $CHURNCTL_DIR/churnctl and
# $CHURNCTL_DIR/churnctl-base (e.g. main) are built beforehand with go build -o.
#
# The simulation is ACCOUNTS × MONTHS (default 4000 × 18, seed 7: quick,
# but its test slices hold about 120 churners, so AUC moves by ±0.03
# between seeds); ACCOUNTS=20000 MONTHS=24 SEED=1 is the size the oracle
# ratio was first reported at. DB is the store (default an SQLite file in
# OUT); RUNS picks runs by name (a grep pattern; default all).
set -e
OUT=${OUT:-/tmp/compare}; mkdir -p $OUT; cd $OUT
ACCOUNTS=${ACCOUNTS:-4000} MONTHS=${MONTHS:-18} SEED=${SEED:-7}
DB=${DB:-sqlite:sim.db}
rm -rf sim sim-truth sim.db
uptime
echo "simulation: $ACCOUNTS accounts, $MONTHS months, seed $SEED; store $DB"
${CHURNCTL_DIR:-/tmp}/churnctl generate --accounts $ACCOUNTS --months $MONTHS --seed $SEED --out sim > /dev/null 2>&1
${CHURNCTL_DIR:-/tmp}/churnctl migrate --db "$DB" > /dev/null 2>&1
${CHURNCTL_DIR:-/tmp}/churnctl ingest --db "$DB" sim > /dev/null 2>&1
K="--key-features reports,integrations,workflows,automations --catalogue-size 20 --truth sim-truth --activate never --json"
run() { # name, binary, args...
  name=$1; bin=$2; shift 2
  echo "$name" | grep -q -e "${RUNS:-.}" || return 0
  s=$(date +%s.%N)
  ${CHURNCTL_DIR:-/tmp}/$bin train --db "$DB" $K "$@" 2>/dev/null > out.json
  e=$(date +%s.%N)
  python3 - "$name" "$(echo "$e - $s" | bc)" <<'PY'
import json,sys
r=json.load(open("out.json")); ev=r["evaluation"]; t=ev["test"]; o=ev.get("oracle"); e=o and o.get("early")
print("%-42s %-9s rows %5d/%4d/%5d purged %5d cut %s AUC %.4f [%.4f, %.4f] log loss %.4f oracle %s ratio %s early %s ratio %s %.0fs" % (
  sys.argv[1], r["algorithm"], ev["train_rows"], ev["valid_rows"], ev["test_rows"], ev["purged"], ev["window"]["cut"][:10],
  t["auc"], t["lo"]["auc"], t["hi"]["auc"], t["log_loss"],
  "%.4f" % o["auc"] if o else "-", "%.4f" % o["ratio"] if o else "-",
  "%.4f" % e["auc"] if e else "-", "%.4f" % e["ratio"] if e else "-", float(sys.argv[2])))
PY
}
run "churn monthly lead0 h30 events12" churnctl --task churn --lead 0d --horizon 30d
run "churn monthly lead0 h30 events0" churnctl --task churn --lead 0d --horizon 30d --event-features 0
run "churn monthly lead0 h30 (main)" churnctl-base --task churn --lead 0d --horizon 30d
run "churn renewal lead7 events12" churnctl --task churn --every renewal
run "churn renewal lead7 events0" churnctl --task churn --every renewal --event-features 0
run "churn monthly lead7 h30 events12" churnctl --task churn
run "conversion events12" churnctl --task conversion
run "conversion events0" churnctl --task conversion --event-features 0
run "conversion (main)" churnctl-base --task conversion
