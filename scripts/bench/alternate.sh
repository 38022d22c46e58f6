#!/bin/sh
# Alternates the GBDT fit benchmark of a base revision, of the work tree and
# XGBoost, printing `uptime` before each run, so that the three are compared
# under the same load. See README.md.
#
# Usage: scripts/bench/alternate.sh [base-revision] [rounds]
#   base-revision  git revision to compare against (default: main)
#   rounds         how many base/new/XGBoost triples to run (default: 2)
#
# CHURN_BENCH_CSV names the benchmark table (default /tmp/bench.csv); it is
# written first if it does not exist.
set -eu

base=${1:-main}
rounds=${2:-2}
root=$(git rev-parse --show-toplevel)
csv=${CHURN_BENCH_CSV:-/tmp/bench.csv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$root"
if [ ! -f "$csv" ]; then
	CHURN_BENCH_CSV=$csv go test ./models -run TestWriteBenchCSV -count=1
fi
go test -c -o "$tmp/new.test" ./models
mkdir "$tmp/base"
git archive "$base" | tar -x -C "$tmp/base"
(cd "$tmp/base" && go test -c -o "$tmp/base.test" ./models)

fit() {
	echo "== $1 $(uptime)"
	(cd "$root/models" && GOMAXPROCS=2 /usr/bin/time -f "$1 wall %e s, user %U s, sys %S s" \
		"$tmp/$1.test" -test.run '^$' -test.bench 'GBDTFit1M$' -test.benchtime 1x -test.count=1 2>&1 |
		grep -E '^Benchmark|wall')
}

i=0
while [ "$i" -lt "$rounds" ]; do
	fit base
	fit new
	echo "== xgboost $(uptime)"
	/usr/bin/python3 "$root/scripts/bench/xgb_speed.py" "$csv" 2
	i=$((i + 1))
done
