package store_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// benchEvents is the size of the ingestion benchmark's usage export.
const benchEvents = 1_000_000

// benchCSV returns a CSV export of benchEvents usage events, generated
// once into the system's temporary folder and reused by later runs: the
// same part always writes the same file. Parts hold different events of
// the same 5,000 accounts over the same year.
func benchCSV(b *testing.B, part int) string {
	b.Helper()
	name := fmt.Sprintf("churn-bench-usage-%d-v1.csv", benchEvents)
	if part > 0 {
		name = fmt.Sprintf("churn-bench-usage-%d-v1-part%d.csv", benchEvents, part)
	}
	path := filepath.Join(os.TempDir(), name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(1+uint64(part), 2))
	featureNames := []string{"reports", "dashboards", "exports", "alerts", "api", "invite", "billing", "search"}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	fmt.Fprintln(w, "event_id,account_id,user_id,feature,at,count,duration_s,errors")
	for i := range benchEvents {
		acct := rng.IntN(5000)
		at := time.Unix(start+rng.Int64N(365*24*3600), 0).UTC()
		fmt.Fprintf(w, "ev%d,acct-%05d,u%d,%s,%s,%d,%.1f,%d\n", part*benchEvents+i, acct, acct*20+rng.IntN(20),
			featureNames[rng.IntN(len(featureNames))], at.Format(time.RFC3339), 1+rng.IntN(5), rng.Float64()*600, rng.IntN(2))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// loadBench loads the benchmark export into s.
func loadBench(b *testing.B, s *store.Store, path string) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	d, err := recordio.NewDecoder(f, path, features.UsageEvents, recordio.CSV, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := s.Load(context.Background(), features.UsageEvents, d)
	if err != nil {
		b.Fatal(err)
	}
	if res.Inserted != benchEvents {
		b.Fatalf("inserted %d rows, want %d", res.Inserted, benchEvents)
	}
}

// BenchmarkIngestSQLite loads 1M usage events into an empty SQLite store.
//
//	go test ./store -run '^$' -bench IngestSQLite -benchtime 3x
func BenchmarkIngestSQLite(b *testing.B) {
	path := benchCSV(b, 0)
	var elapsed, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := storetest.Open(b, "sqlite")
		b.StartTimer()
		start, cpu0 := time.Now(), processCPU()
		loadBench(b, s, path)
		elapsed += time.Since(start)
		cpu += processCPU() - cpu0
	}
	b.ReportMetric(float64(benchEvents*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(benchEvents*b.N)/cpu.Seconds(), "rows/cpu-s")
}

// statCPU is the CPU time, user and system, in a line of /proc/PID/stat.
func statCPU(b *testing.B, stat string) time.Duration {
	b.Helper()
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	// The command may hold spaces; the fields that follow its ")" start
	// with the state (field 3), so utime and stime (14 and 15) are 11 and 12.
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	if len(fields) < 13 {
		b.Fatalf("unexpected /proc stat line %q", stat)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("unexpected /proc stat line %q", stat)
	}
	return time.Duration(utime+stime) * tick
}

// BenchmarkIngestPostgres loads 1M usage events into an empty PostgreSQL
// store, and in the same run copies the same file with psql's \copy into
// an unindexed table (psql_rows/s: the ceiling a loader can approach) and
// into a table with our keys and indexes (psql_indexed_rows/s). ratio is
// our rate over the unindexed \copy's. ns/op counts that load only.
//
// An empty table is bulk loaded. A second file of 1M other events, loaded
// after the first, takes the path of every later load, merged through a
// temporary table: incremental_rows/s and incremental_ratio.
//
// On a shared machine wall time measures the neighbours as much as the
// load, so the benchmark also counts CPU time, of the client and of the
// server processes that serve it (read from /proc: the server must run on
// this machine): cpu_ratio and incremental_cpu_ratio are the unindexed
// \copy's CPU seconds (psql's and its server process's) over ours (this
// process's and the store's server processes'); cpu-s/op, psql_cpu-s/op
// and incremental_cpu-s/op are the seconds of one load.
//
//	CHURN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test ./store -run '^$' -bench IngestPostgres -benchtime 5x -v
//
// With -v it also logs each load's time beside the \copy's just before it,
// and the load's phases (COPY, index build or merge) at debug level.
func BenchmarkIngestPostgres(b *testing.B) {
	if testing.Verbose() {
		defer slog.SetLogLoggerLevel(slog.SetLogLoggerLevel(slog.LevelDebug))
	}
	path, more := benchCSV(b, 0), benchCSV(b, 1)
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Skip("psql is not installed")
	}
	dsn := storetest.DSN(b, "postgres")
	// psql (libpq) takes the test's schema from PGOPTIONS, not the URL.
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	psqlDSN := u.String()
	// The store's connections carry a name of their own, by which the
	// benchmark finds their server processes.
	app := "churn_bench_" + strconv.Itoa(os.Getpid())
	ctx := context.Background()
	s, err := store.Open(ctx, dsn+"&application_name="+app)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	admin, err := sqlx.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	exec1 := func(q string) {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	// serverCPU is the CPU time of each of the store's server processes.
	serverCPU := func() map[int]time.Duration {
		var pids []int
		if err := admin.SelectContext(ctx, &pids, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app); err != nil {
			b.Fatal(err)
		}
		cpu := make(map[int]time.Duration, len(pids))
		for _, pid := range pids {
			stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil {
				b.Fatalf("reading the CPU time of server process %d (the benchmark needs the server on this machine): %v", pid, err)
			}
			cpu[pid] = statCPU(b, string(stat))
		}
		return cpu
	}
	// loadCPU loads file and times it, with the CPU time of this process
	// and of the store's server processes (one that started meanwhile
	// counts whole).
	loadCPU := func(file string) (wall, cpu time.Duration) {
		start, client, server := time.Now(), processCPU(), serverCPU()
		loadBench(b, s, file)
		wall, cpu = time.Since(start), processCPU()-client
		for pid, t := range serverCPU() {
			cpu += t - server[pid]
		}
		return wall, cpu
	}
	// psqlCopy times psql's \copy of the export into table, with the CPU
	// time of psql and of its server process, which psql prints from
	// /proc before and after.
	psqlCopy := func(table string) (wall, cpu time.Duration) {
		script := "SELECT pg_backend_pid() AS pid \\gset\n\\setenv PID :pid\n\\! cat /proc/$PID/stat\n" +
			`\copy ` + table + ` FROM '` + path + `' CSV HEADER` + "\n\\! cat /proc/$PID/stat\n"
		start := time.Now()
		cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", psqlDSN, "-f", "-")
		cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("psql: %v\n%s", err, out)
		}
		wall = time.Since(start)
		stats := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(stats) != 2 {
			b.Fatalf("psql printed %q, want two /proc stat lines", out)
		}
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() + statCPU(b, stats[1]) - statCPU(b, stats[0])
		return wall, cpu
	}
	var ours, incremental, bare, indexed, oursCPU, incrementalCPU, bareCPU time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		exec1("TRUNCATE usage_events")
		exec1("DROP TABLE IF EXISTS psql_copy, psql_indexed")
		exec1("CREATE TABLE psql_copy (event_id text, account_id text, user_id text, feature text, at timestamptz, count bigint, duration_s double precision, errors bigint)")
		// The same table as ours, keys and indexes included: what the
		// indexes alone cost a COPY.
		exec1("CREATE TABLE psql_indexed (LIKE usage_events INCLUDING ALL)")
		exec1("CHECKPOINT")
		wall, _ := psqlCopy("psql_indexed")
		indexed += wall
		// The unindexed \copy runs right before our load, so that the
		// two see the same machine: on a shared one, minutes apart can
		// differ by a third.
		exec1("CHECKPOINT")
		psqlBare, psqlBareCPU := psqlCopy("psql_copy")
		bare += psqlBare
		bareCPU += psqlBareCPU
		exec1("CHECKPOINT")
		b.StartTimer()
		load, loadCPU1 := loadCPU(path)
		ours += load
		oursCPU += loadCPU1
		b.StopTimer()
		exec1("CHECKPOINT")
		extra, extraCPU := loadCPU(more)
		incremental += extra
		incrementalCPU += extraCPU
		b.StartTimer()
		b.Logf("psql \\copy %.2fs (%.2f cpu-s), ours %.2fs (%.2f cpu-s; ratio %.3f, cpu %.3f), incremental %.2fs (%.2f cpu-s; ratio %.3f, cpu %.3f)",
			psqlBare.Seconds(), psqlBareCPU.Seconds(), load.Seconds(), loadCPU1.Seconds(),
			psqlBare.Seconds()/load.Seconds(), psqlBareCPU.Seconds()/loadCPU1.Seconds(),
			extra.Seconds(), extraCPU.Seconds(), psqlBare.Seconds()/extra.Seconds(), psqlBareCPU.Seconds()/extraCPU.Seconds())
	}
	rows, n := float64(benchEvents*b.N), float64(b.N)
	rate, psqlRate := rows/ours.Seconds(), rows/bare.Seconds()
	b.ReportMetric(rows/incremental.Seconds(), "incremental_rows/s")
	b.ReportMetric(rows/incremental.Seconds()/psqlRate, "incremental_ratio")
	b.ReportMetric(bareCPU.Seconds()/incrementalCPU.Seconds(), "incremental_cpu_ratio")
	b.ReportMetric(incrementalCPU.Seconds()/n, "incremental_cpu-s/op")
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(psqlRate, "psql_rows/s")
	b.ReportMetric(rows/indexed.Seconds(), "psql_indexed_rows/s")
	b.ReportMetric(rate/psqlRate, "ratio")
	b.ReportMetric(bareCPU.Seconds()/oursCPU.Seconds(), "cpu_ratio")
	b.ReportMetric(oursCPU.Seconds()/n, "cpu-s/op")
	b.ReportMetric(bareCPU.Seconds()/n, "psql_cpu-s/op")
}

// sliceSource yields records from memory.
type sliceSource struct {
	recs []recordio.Record
	next int
}

func (s *sliceSource) Next() (recordio.Record, error) {
	if s.next == len(s.recs) {
		return nil, io.EOF
	}
	s.next++
	return s.recs[s.next-1], nil
}

// BenchmarkHistories sweeps every account's history, as the feature
// builders do: 200k usage events over 2000 accounts, per store.
//
//	go test ./store -run '^$' -bench Histories
func BenchmarkHistories(b *testing.B) {
	const events, accounts = 200_000, 2000
	recs := make([]recordio.Record, events)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		recs[i] = &features.UsageEvent{EventID: "e" + strconv.Itoa(i), AccountID: "acct-" + strconv.Itoa(i%accounts),
			UserID: "u" + strconv.Itoa(i%37), Feature: "reports", At: start.Add(time.Duration(i) * time.Minute), Count: 1}
	}
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			s := storetest.Open(b, dialect)
			ctx := context.Background()
			if _, err := s.Load(ctx, features.UsageEvents, &sliceSource{recs: recs}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				n := 0
				err := s.Histories(ctx, store.Shard{}, func(h *features.History) error {
					n += len(h.Usage)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if n != events {
					b.Fatalf("swept %d events, want %d", n, events)
				}
			}
			b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
