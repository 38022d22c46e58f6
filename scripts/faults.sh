#!/usr/bin/env bash
# faults.sh injects faults into a local PostgreSQL-backed service and prints
# a table: test, expected, observed, pass/fail. It restarts the server during
# a load, a batch and API traffic, kills loads and batches with SIGKILL, and
# takes the webhook receiver down; each time it checks that nothing partial
# is left, that a re-run lands exactly what a run without faults lands, that
# the API answers only 200 or 503 (never 500) and that every queued webhook
# arrives exactly once, signed.
#
#   scripts/faults.sh                  # needs PostgreSQL 15 on 127.0.0.1:5432 (trust auth, user postgres)
#   FAULTS_ACCOUNTS=5000 scripts/faults.sh
#   FAULTS_RESTART=0 FAULTS_ACCOUNTS=300 scripts/faults.sh   # try the script without restarting the server
#
# It works in two databases of its own, churn_faults and churn_faults_ref
# (dropped and created anew), but restarting PostgreSQL breaks every other
# connection to the server: run it where nothing else uses that server.
# Exit status: 0 when every test passes, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

accounts=${FAULTS_ACCOUNTS:-2000}
cluster=${FAULTS_PG_CLUSTER:-15 main}
pg="postgres://postgres@127.0.0.1:5432"
db="$pg/churn_faults?sslmode=disable"
ref="$pg/churn_faults_ref?sslmode=disable"
api=127.0.0.1:${FAULTS_API_PORT:-18080}
hook=127.0.0.1:${FAULTS_HOOK_PORT:-18090}
secret=faults-secret
asof=2025-01-01

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

results=()
failures=0
# record TEST EXPECTED OBSERVED PASS(0|1)
record() {
	local verdict=pass
	if [ "$4" != 0 ]; then verdict=FAIL; failures=$((failures + 1)); fi
	results+=("$1|$2|$3|$verdict")
	echo "-- $1: $3 ($verdict)" >&2
}

sql() { psql -X -q -t -A "$1" -c "$2"; }

# FAULTS_RESTART=0 leaves the server alone, to try the script itself; the
# restart tests then fail, as they should.
restart_pg() {
	if [ "${FAULTS_RESTART:-1}" = 0 ]; then return; fi
	# shellcheck disable=SC2086 # the cluster is "VERSION NAME"
	pg_ctlcluster --skip-systemctl-redirect $cluster restart
}

wait_pg() {
	for _ in $(seq 60); do pg_isready -h 127.0.0.1 -p 5432 -q && return 0; sleep 0.5; done
	return 1
}

# counts DSN prints "table=rows ..." for the canonical tables.
counts() {
	sql "${1%%\?*}" "SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
		SELECT 'accounts' t, count(*) n FROM accounts UNION ALL SELECT 'billing_changes', count(*) FROM billing_changes
		UNION ALL SELECT 'escalations', count(*) FROM escalations UNION ALL SELECT 'survey_responses', count(*) FROM survey_responses
		UNION ALL SELECT 'tickets', count(*) FROM tickets UNION ALL SELECT 'usage_events', count(*) FROM usage_events) c"
}

# batch_state DSN prints the scores and alerts of the batch as of $asof.
batch_state() {
	sql "${1%%\?*}" "SELECT (SELECT count(*) FROM scores WHERE as_of = '$asof') || ' scores, sum p ' ||
		(SELECT coalesce(round(sum(probability)::numeric, 6), 0) FROM scores WHERE as_of = '$asof') || ', ' ||
		(SELECT count(*) FROM alerts) || ' alerts'"
}

# partial_free DSN REFCOUNTS: every table holds all its reference rows or none.
partial_free() {
	local got
	got=$(counts "$1")
	for pair in $2; do
		local t=${pair%%=*} want=${pair#*=} n
		n=$(tr ' ' '\n' <<<"$got" | sed -n "s/^$t=//p")
		if [ "$n" != 0 ] && [ "$n" != "$want" ]; then echo "$t has $n of $want rows"; return 1; fi
	done
	echo "no partial table"
}

echo "== building" >&2
go build -o "$work/churnctl" ./cmd/churnctl
go build -o "$work/churnd" ./cmd/churnd
ctl="$work/churnctl"

echo "== PostgreSQL and data ($accounts accounts)" >&2
wait_pg
for d in churn_faults churn_faults_ref; do
	psql -X -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d"
done
"$ctl" generate --accounts "$accounts" --months 12 --seed 7 --out "$work/sim" >/dev/null 2>&1
"$ctl" migrate --db "$db" >/dev/null 2>&1
"$ctl" migrate --db "$ref" >/dev/null 2>&1

echo "== reference: load, train and score without faults" >&2
"$ctl" ingest --db "$ref" "$work/sim" >/dev/null 2>&1
want_rows=$(counts "$ref")
"$ctl" train --db "$ref" --task churn --algo logreg >/dev/null 2>&1
"$ctl" score --db "$ref" --task churn --as-of "$asof" >/dev/null 2>&1
want_batch=$(batch_state "$ref")
echo "reference: $want_rows; $want_batch" >&2

# --- loads -------------------------------------------------------------------
"$ctl" ingest --db "$db" "$work/sim" >"$work/load1.log" 2>&1 &
load=$!
sleep "${FAULTS_LOAD_DELAY:-2}"
running=$(kill -0 $load 2>/dev/null && echo "mid-load" || echo "after the load ended")
restart_pg
code=0; wait $load || code=$?
wait_pg
pf=$(partial_free "$db" "$want_rows") && ok=0 || ok=1
observed="restart $running, exit $code; $pf"
record "PostgreSQL restart during a load" "exit ≠ 0, no partial table" "$observed" $([ $ok = 0 ] && [ "$code" != 0 ] && echo 0 || echo 1)

code=0; "$ctl" ingest --db "$db" "$work/sim" >/dev/null 2>&1 || code=$?
got=$(counts "$db")
record "re-run after the restart" "exit 0, reference counts" "exit $code, $([ "$got" = "$want_rows" ] && echo "counts equal" || echo "$got")" \
	$([ "$code" = 0 ] && [ "$got" = "$want_rows" ] && echo 0 || echo 1)

for t in accounts billing_changes escalations survey_responses tickets usage_events; do sql "${db%%\?*}" "TRUNCATE $t CASCADE"; done
"$ctl" ingest --db "$db" "$work/sim" >/dev/null 2>&1 &
load=$!
sleep "${FAULTS_LOAD_DELAY:-2}"
running=$(kill -0 $load 2>/dev/null && echo "mid-load" || echo "after the load ended")
kill -9 $load 2>/dev/null || true
wait $load 2>/dev/null || true
pf=$(partial_free "$db" "$want_rows") && ok=0 || ok=1
observed="kill -9 $running; $pf"
record "kill -9 of a load" "no partial table" "$observed" $ok
code=0; "$ctl" ingest --db "$db" "$work/sim" >/dev/null 2>&1 || code=$?
code2=0; "$ctl" ingest --db "$db" "$work/sim" >"$work/again.log" 2>&1 || code2=$?
got=$(counts "$db")
record "re-run after kill -9, then once more" "exit 0 twice, reference counts" "exit $code and $code2, $([ "$got" = "$want_rows" ] && echo "counts equal" || echo "$got")" \
	$([ "$code" = 0 ] && [ "$code2" = 0 ] && [ "$got" = "$want_rows" ] && echo 0 || echo 1)

# --- batches -----------------------------------------------------------------
"$ctl" train --db "$db" --task churn --algo logreg >/dev/null 2>&1
"$ctl" score --db "$db" --task churn --as-of "$asof" --workers 1 >/dev/null 2>&1 &
batch=$!
sleep "${FAULTS_BATCH_DELAY:-1}"
running=$(kill -0 $batch 2>/dev/null && echo "mid-batch" || echo "after the batch ended")
restart_pg
code=0; wait $batch || code=$?
wait_pg
code2=0; "$ctl" score --db "$db" --task churn --as-of "$asof" >/dev/null 2>&1 || code2=$?
got=$(batch_state "$db")
record "PostgreSQL restart during a batch, re-run" "re-run exit 0, reference scores and alerts" \
	"restart $running (exit $code), re-run exit $code2, $([ "$got" = "$want_batch" ] && echo "identical: $got" || echo "$got vs $want_batch")" \
	$([ "$code2" = 0 ] && [ "$got" = "$want_batch" ] && echo 0 || echo 1)

sql "${db%%\?*}" "DELETE FROM alert_outbox; DELETE FROM alerts; DELETE FROM current_scores; DELETE FROM scores"
kills=0
for _ in 1 2 3; do
	"$ctl" score --db "$db" --task churn --as-of "$asof" --workers 1 >/dev/null 2>&1 &
	batch=$!
	sleep "${FAULTS_BATCH_DELAY:-1}"
	if kill -9 $batch 2>/dev/null; then kills=$((kills + 1)); fi
	wait $batch 2>/dev/null || true
done
code=0; "$ctl" score --db "$db" --task churn --as-of "$asof" >/dev/null 2>&1 || code=$?
got=$(batch_state "$db")
record "kill -9 of a batch ×3, re-run" "exit 0, reference scores and alerts" \
	"$kills kills mid-batch, exit $code, $([ "$got" = "$want_batch" ] && echo "identical: $got" || echo "$got vs $want_batch")" \
	$([ "$code" = 0 ] && [ "$got" = "$want_batch" ] && echo 0 || echo 1)

# --- API traffic and the webhook receiver ------------------------------------
key=$("$ctl" keys create --db "$db" --role admin --name faults 2>/dev/null | tail -1)
cat >"$work/churn.yaml" <<EOF
webhook: {url: "http://$hook/hook", secret: $secret, max_attempts: 1000, backoff: 1s, max_backoff: 2s, timeout: 2s}
EOF
"$work/churnd" --db "$db" --addr "$api" --config "$work/churn.yaml" --access-log=false >"$work/churnd.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do curl -fs "http://$api/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
account=$(curl -fs -H "Authorization: Bearer $key" "http://$api/v1/accounts?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["account_id"])')

# Traffic for 12 s, the restart after 3 s.
(
	end=$((SECONDS + 12))
	while [ $SECONDS -lt $end ]; do
		for path in "/v1/accounts?limit=5" "/v1/accounts/$account" "/v1/alerts?limit=5" "/v1/metrics/saas"; do
			curl -s -m 5 -o /dev/null -w "%{http_code}\n" -H "Authorization: Bearer $key" "http://$api$path" || true
		done
	done
) >"$work/codes.txt" &
traffic=$!
sleep 3
restart_pg
wait $traffic
wait_pg
sleep 1
after=$(for _ in 1 2 3; do curl -s -o /dev/null -w "%{http_code} " -H "Authorization: Bearer $key" "http://$api/v1/accounts?limit=5"; done)
summary=$(sort "$work/codes.txt" | uniq -c | awk '{printf "%s×%s ", $2, $1}')
bad=$(grep -cvE '^(200|503)$' "$work/codes.txt" || true)
record "PostgreSQL restart during API traffic" "only 200 or 503, never 500; 200 after" "${summary}then ${after% }" \
	$([ "$bad" = 0 ] && [ "${after% }" = "200 200 200" ] && echo 0 || echo 1)

metric() { curl -fs "http://$api/metrics" | sed -n "s/^$1 //p"; }
# The receiver is down: the batch's alerts wait in the outbox.
sleep 12
pending=$(metric 'churn_webhook_queue_depth{status="pending"}')
retried=$(metric 'churn_webhook_deliveries_total{result="retried"}')
cat >"$work/receiver.py" <<'EOF'
import hashlib, hmac, http.server, json, sys
secret, log = sys.argv[2].encode(), open(sys.argv[3], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = hmac.compare_digest("sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(), self.headers.get("X-Churn-Signature", ""))
        log.write(json.dumps({"key": json.loads(body)["idempotency_key"], "signed": good}) + "\n"); log.flush()
        self.send_response(200 if good else 401); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
python3 "$work/receiver.py" "${hook##*:}" "$secret" "$work/received.jsonl" &
pids+=($!)
for _ in $(seq 90); do
	[ "$(metric 'churn_webhook_queue_depth{status="pending"}')" = 0 ] && break
	sleep 1
done
sleep 1
got=$(wc -l <"$work/received.jsonl" | tr -d ' ')
unique=$(python3 -c 'import json,sys; print(len({json.loads(l)["key"] for l in open(sys.argv[1])}))' "$work/received.jsonl")
unsigned=$(grep -c '"signed": false' "$work/received.jsonl" || true)
dead=$(metric 'churn_webhook_queue_depth{status="dead"}')
record "webhook receiver down, then up" "every queued alert once, signed; none dead" \
	"$pending queued ($retried retried attempts while down); received $got, $unique distinct, $unsigned unsigned, $dead dead" \
	$([ "${pending:-0}" -gt 0 ] && [ "$got" = "$pending" ] && [ "$unique" = "$pending" ] && [ "$unsigned" = 0 ] && [ "$dead" = 0 ] && echo 0 || echo 1)

errors=$(grep -c 'level=ERROR' "$work/churnd.log" || true)
record "churnd log over the run" "no ERROR (bugs), no panic" "$errors ERROR lines, $(grep -c panic "$work/churnd.log" || true) panics" \
	$([ "$errors" = 0 ] && echo 0 || echo 1)

echo
printf '| %s | %s | %s | %s |\n' test expected observed result
printf '|---|---|---|---|\n'
for r in "${results[@]}"; do
	IFS='|' read -r t e o v <<<"$r"
	printf '| %s | %s | %s | %s |\n' "$t" "$e" "$o" "$v"
done
echo
echo "$((${#results[@]} - failures)) passed, $failures failed"
[ "$failures" = 0 ]
