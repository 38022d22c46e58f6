#!/bin/bash
# Compares churnctl train --table + predict with scikit-learn and XGBoost
# (peers.py) on the shared tables, in one run: telecom on its fixed 80/20
# split, online shoppers on peers.py's stratified 25% split. It runs two
# builds, $CHURNCTL_DIR/churnctl and $CHURNCTL_DIR/churnctl-base (e.g. main),
# built beforehand with go build -o.
set -e
D=/work/shared/data
P=/work/shared/peers/peers.py
OUT=${OUT:-/tmp/compare}; mkdir -p $OUT; cd $OUT
uptime
/usr/bin/python3 $P $D/online_shoppers_intention.csv --label Revenue --test-fraction 0.25 --seed 7 --write-split shoppers > /dev/null
for t in telecom shoppers; do
  if [ $t = telecom ]; then TR=$D/churn-bigml-80.csv; TE=$D/churn-bigml-20.csv; L=Churn; else TR=shoppers/train.csv; TE=shoppers/test.csv; L=Revenue; fi
  echo "== $t peers"
  /usr/bin/time -f "peers %e s wall %U s user" /usr/bin/python3 $P $TR --label $L --test $TE --seed 7 --threads 2
  for b in churnctl churnctl-base; do
    echo "== $t $b"
    ${CHURNCTL_DIR:-/tmp}/$b train --table $TR --label $L --out $t-$b.json --json 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin); print("chosen", r["algorithm"], "fit %.1fs" % r["fit_seconds"], [(c["algorithm"], round(c["validation"]["log_loss"],4), c.get("tree_weight")) for c in r["candidates"]])'
    ${CHURNCTL_DIR:-/tmp}/$b predict --model $t-$b.json --table $TE --out $t-$b.pred --eval 2>/dev/null
  done
done
