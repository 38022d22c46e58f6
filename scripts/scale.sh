#!/usr/bin/env bash
# Scale-out test of batch scoring on PostgreSQL (docs/SCALE.md).
#
# Builds a store of ACCOUNTS simulated accounts (12 months) in schema
# SCHEMA of the PostgreSQL server PG, trains a churn and a conversion
# model, then scores as of AS_OF: once unsharded, then with --shard i/N
# for i = 0..N-1 one after another, then all N at once. For each run it
# prints the accounts and rows read (the store's own counters, logged by
# every sweep), the wall time, the CPU time of churnctl (not of the
# database) and the peak RSS (/usr/bin/time -v); then the sum of the
# shards' times against the unsharded run's.
#
# Every run writes its scores afresh (the score tables are emptied before
# each), and runs without alerts, so that the runs do the same work.
#
#   scripts/scale.sh                      # 200k accounts, 4 shards
#   ACCOUNTS=20000 scripts/scale.sh       # a smaller store
#   REBUILD=1 ACCOUNTS=20000 scripts/scale.sh
#
# The store is kept between runs (REBUILD=1 builds it again); the
# generated files are kept in WORK.
set -euo pipefail

ACCOUNTS=${ACCOUNTS:-200000}
SHARDS=${SHARDS:-4}
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
SCHEMA=${SCHEMA:-churn_scale_$ACCOUNTS}
WORK=${WORK:-${TMPDIR:-/tmp}/churn-scale-$ACCOUNTS}
AS_OF=${AS_OF:-2025-01-01}
WORKERS=${WORKERS:-0}

cd "$(dirname "$0")/.."
mkdir -p "$WORK"
for tool in psql /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "scale.sh: $tool is not installed" >&2; exit 1; }
done
go build -o "$WORK/churnctl" ./cmd/churnctl
churnctl="$WORK/churnctl"
sep='?'
[[ $PG == *\?* ]] && sep='&'
DB="$PG${sep}search_path=$SCHEMA"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$PG" -c "$1"; }
qs() { PGOPTIONS="-c search_path=$SCHEMA" psql -X -q -At -v ON_ERROR_STOP=1 -d "$PG" -c "$1"; }

have=$(q "SELECT count(*) FROM pg_namespace WHERE nspname = '$SCHEMA'")
if [[ ${REBUILD:-0} == 1 || $have == 0 ]]; then
	echo "== building a store of $ACCOUNTS accounts in schema $SCHEMA"
	if [[ ! -s $WORK/data/usage.csv ]]; then
		"$churnctl" generate --accounts "$ACCOUNTS" --months 12 --seed 1 --out "$WORK/data"
	fi
	q "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA"
	"$churnctl" migrate --db "$DB"
	"$churnctl" ingest --db "$DB" "$WORK/data"
	# Statistics for the planner, and the visibility map that lets a
	# shard read its accounts from the bucket index alone; autovacuum
	# would do both in a while.
	qs "VACUUM ANALYZE"
	"$churnctl" train --db "$DB" --task churn
	"$churnctl" train --db "$DB" --task conversion
fi
echo "== store: $(qs "SELECT count(*) FROM accounts") accounts, $(qs "SELECT count(*) FROM usage_events") usage events;" \
	"machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# score NAME [--shard i/n]: one timed run, its log in $WORK/NAME.log.
score() {
	local name=$1
	shift
	/usr/bin/time -v -o "$WORK/$name.time" "$churnctl" score --db "$DB" --task all --as-of "$AS_OF" \
		--no-alerts --workers "$WORKERS" "$@" >"$WORK/$name.out" 2>"$WORK/$name.log"
}
reset() { qs "TRUNCATE scores, current_scores"; }
# row NAME: the run's figures, and its wall seconds on stdout's last field.
row() {
	local name=$1 read wall cpu rss
	read=$(grep -h 'msg="read histories"' "$WORK/$name.log" | head -1 | grep -oE ' (accounts|rows)=[0-9]+' | cut -d= -f2 | tr '\n' ' ')
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$WORK/$name.time")
	cpu=$(awk -F': ' '/(User|System) time/ {s += $2} END {printf "%.1f", s}' "$WORK/$name.time")
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$WORK/$name.time")
	printf '%-12s %10s %12s %9.1f %9s %9s\n' "$name" ${read:-? ?} "$wall" "$cpu" "$rss"
}
header() { printf '%-12s %10s %12s %9s %9s %9s\n' run accounts rows_read wall_s cpu_s rss_mb; }

reset
score all
echo "== unsharded"
header
row all
full=$(row all | awk '{print $4}')
fullcpu=$(row all | awk '{print $5}')

reset
echo "== $SHARDS shards, one after another"
header
sum=0 sumcpu=0
for ((i = 0; i < SHARDS; i++)); do
	score "seq-$i" --shard "$i/$SHARDS"
	row "seq-$i"
	sum=$(awk -v a="$sum" -v b="$(row "seq-$i" | awk '{print $4}')" 'BEGIN {print a + b}')
	sumcpu=$(awk -v a="$sumcpu" -v b="$(row "seq-$i" | awk '{print $5}')" 'BEGIN {print a + b}')
done

reset
echo "== $SHARDS shards at once"
header
start=$(date +%s.%N)
for ((i = 0; i < SHARDS; i++)); do
	score "par-$i" --shard "$i/$SHARDS" &
done
wait
end=$(date +%s.%N)
for ((i = 0; i < SHARDS; i++)); do
	row "par-$i"
done

echo "== summary"
awk -v sum="$sum" -v full="$full" -v sumcpu="$sumcpu" -v fullcpu="$fullcpu" -v n="$SHARDS" \
	-v par="$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" 'BEGIN {
	printf "sum of %d shard times %.1f s against one unsharded run %.1f s: %.2fx (target <= 1.15x)\n", n, sum, full, sum / full
	printf "sum of %d shard CPU times %.1f s against the unsharded run %.1f s: %.2fx\n", n, sumcpu, fullcpu, sumcpu / fullcpu
	printf "%d shards at once: %.1f s wall, %.2fx the unsharded run\n", n, par, par / full
}'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
