#!/bin/sh
# Compares loading the same usage events into an empty store from a
# canonical file and through a SQL transform that stages an export keyed by
# subscription and joins it (store/transform BenchmarkLoad), alternating
# the two in one run so that the machine's load hits both alike. Prints the
# load average before each run, and wall and CPU seconds.
#
#   scripts/bench-transform.sh [rounds]     # CHURN_BENCH_ROWS=1000000 by default
#
# PostgreSQL is measured too when CHURN_TEST_POSTGRES is set.
set -eu
rounds=${1:-3}
export CHURN_BENCH_ROWS=${CHURN_BENCH_ROWS:-1000000}
bin=$(mktemp -d)/transform.test
go test -c -o "$bin" ./store/transform
dialects=sqlite
[ -n "${CHURN_TEST_POSTGRES:-}" ] && dialects="sqlite postgres"
# The export is written once, before the first timed run.
"$bin" -test.run XXX -test.bench 'BenchmarkLoad/sqlite/file' -test.benchtime 1x >/dev/null
for d in $dialects; do
	for r in $(seq "$rounds"); do
		for mode in file transform; do
			printf 'round %s %s/%s load:%s\n' "$r" "$d" "$mode" "$(cut -d' ' -f1-3 /proc/loadavg)"
			/usr/bin/time -f '  wall %es  cpu %Us user + %Ss sys' "$bin" -test.run XXX \
				-test.bench "BenchmarkLoad/$d/$mode\$" -test.benchtime 1x 2>&1 | grep -E 'Benchmark|wall'
		done
	done
done
