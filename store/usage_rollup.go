package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/saas"
)

// The usage rollup (table usage_months, migration 0014) holds, per
// account and month, what the SaaS metrics need of the usage events: a
// saas.UsageMonth. A load of usage events marks, in its transaction, the
// months from the first to the last of each account's events in the load
// as stale (usage_months_stale); the next read of the rollup
// (EachUsageMonth) rebuilds the stale months from the events stored, so
// the rollup is whatever the events are, however often a file is re-sent,
// whichever stored events a load replaced, and a load pays only for its
// marks. Events are never deleted, so a month that has a row keeps its
// events, and rebuilding a month is an upsert.

// rollupBatchRows is how many rollup rows one upsert writes (6 columns).
const rollupBatchRows = 256

// rollupChunk is how many accounts one PostgreSQL statement rolls up,
// and how many accounts' rollup rows SQLite writes together.
const rollupChunk = 1000

// staleBatchRows is how many stale marks one upsert writes (4 columns).
const staleBatchRows = 512

// markUsageStale marks, in tx, the rollup months that spans cover as
// stale: per account, from the month of its first event in the load to
// that of its last, widening an earlier mark's span and counting the
// marks.
func markUsageStale(ctx context.Context, tx *sqlx.Tx, d dialect, spans map[string]*accountRows) error {
	args := make([]any, 0, 4*min(len(spans), staleBatchRows))
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		q := "INSERT INTO usage_months_stale (account_id, lo, hi, marks) " + valuesList(len(args)/4, 4) +
			" ON CONFLICT (account_id) DO UPDATE SET" +
			" lo = CASE WHEN excluded.lo < usage_months_stale.lo THEN excluded.lo ELSE usage_months_stale.lo END," +
			" hi = CASE WHEN excluded.hi > usage_months_stale.hi THEN excluded.hi ELSE usage_months_stale.hi END," +
			" marks = usage_months_stale.marks + 1"
		_, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
		args = args[:0]
		return err
	}
	for id, sp := range spans {
		args = append(args, id, d.timeArg(sp.first), d.timeArg(sp.last), 1)
		if len(args) == 4*staleBatchRows {
			if err := flush(); err != nil {
				return fmt.Errorf("loading usage_events: marking the usage rollup stale: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("loading usage_events: marking the usage rollup stale: %w", err)
	}
	return nil
}

// refreshUsageRollup rebuilds the stale months of the rollup and clears
// the marks it rebuilt, in one transaction on the writer. A mark that a
// load added or widened meanwhile (its count changed) stays for the next
// refresh, so no load's events are left out.
func (s *Store) refreshUsageRollup(ctx context.Context) error {
	fail := func(err error) error { return fmt.Errorf("refreshing the usage rollup: %w", err) }
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	type mark struct {
		span  accountRows
		marks int64
	}
	marked := map[string]mark{}
	rows, err := tx.QueryContext(ctx, "SELECT account_id, lo, hi, marks FROM usage_months_stale")
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var (
			id string
			m  mark
		)
		if err := rows.Scan(&id, dbTime{&m.span.first}, dbTime{&m.span.last}, &m.marks); err != nil {
			rows.Close()
			return fail(err)
		}
		marked[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if len(marked) == 0 {
		return nil
	}
	spans := make(map[string]*accountRows, len(marked))
	for id, m := range marked {
		spans[id] = &m.span
	}
	if err := rollUpUsage(ctx, tx, s.dialect, spans); err != nil {
		return fail(err)
	}
	del, err := tx.PreparexContext(ctx, tx.Rebind("DELETE FROM usage_months_stale WHERE account_id = ? AND marks = ?"))
	if err != nil {
		return fail(err)
	}
	defer del.Close()
	for id, m := range marked {
		if _, err := del.ExecContext(ctx, id, m.marks); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// rollUpUsage rebuilds, in tx, the usage_months rows of the months that
// spans cover: per account, from the month of its first span time to
// that of its last.
func rollUpUsage(ctx context.Context, tx *sqlx.Tx, d dialect, spans map[string]*accountRows) error {
	fail := func(err error) error { return fmt.Errorf("rolling up usage: %w", err) }
	if len(spans) == 0 {
		return nil
	}
	if d.name() == "postgres" {
		// Two refreshes rolling up the same account at once would race on
		// its rows: the second waits here for the first to commit.
		if _, err := tx.ExecContext(ctx, "LOCK TABLE usage_months IN EXCLUSIVE MODE"); err != nil {
			return fail(err)
		}
	}
	ids := make([]string, 0, len(spans))
	for id := range spans {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if d.name() == "postgres" {
		for start := 0; start < len(ids); start += rollupChunk {
			if err := rollUpInPostgres(ctx, tx, ids[start:min(start+rollupChunk, len(ids))], spans); err != nil {
				return fail(err)
			}
		}
		return nil
	}
	events, err := newSpanReader(ctx, tx, d)
	if err != nil {
		return fail(err)
	}
	defer events.close()
	w := rollupWriter{ctx: ctx, tx: tx, d: d}
	rollup := saas.NewUsageRollup(w.add)
	for start := 0; start < len(ids); start += rollupChunk {
		err := events.read(ids[start:min(start+rollupChunk, len(ids))], spans, rollup.Add)
		if err != nil {
			return fail(err)
		}
		rollup.Flush()
		if err := w.flush(); err != nil {
			return fail(err)
		}
	}
	return nil
}

// rollUpInPostgres rebuilds the rollup rows of the accounts ids within
// their spans' months in one statement, aggregating on the server: the
// definitions of saas.UsageRollup in SQL, as migration 0014 has them, so
// that the events stay on the server rather than cross to the client.
func rollUpInPostgres(ctx context.Context, tx *sqlx.Tx, ids []string, spans map[string]*accountRows) error {
	froms, tos := make([]time.Time, len(ids)), make([]time.Time, len(ids))
	for i, id := range ids {
		froms[i], tos[i] = saas.MonthOf(spans[id].first).Start(), saas.MonthOf(spans[id].last).End()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO usage_months (month, account_id, users, user_days, features, last_at)
		SELECT month, account_id, count(DISTINCT NULLIF(user_id, '')),
			count(DISTINCT CASE WHEN user_id <> '' THEN day || ' ' || user_id END), count(DISTINCT feature), max(at)
		FROM (SELECT u.account_id, u.user_id, u.feature, u.at,
				date_trunc('month', u.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month,
				CAST(date_trunc('day', u.at AT TIME ZONE 'UTC') AS TEXT) AS day
			FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS s(account_id, lo, hi)
			JOIN usage_events u ON u.account_id = s.account_id AND u.at >= s.lo AND u.at < s.hi) e
		GROUP BY month, account_id
		ON CONFLICT (month, account_id) DO UPDATE SET users = excluded.users, user_days = excluded.user_days,
			features = excluded.features, last_at = excluded.last_at
		WHERE (usage_months.users, usage_months.user_days, usage_months.features, usage_months.last_at) IS DISTINCT FROM
			(excluded.users, excluded.user_days, excluded.features, excluded.last_at)`, ids, froms, tos)
	return err
}

// spanReader reads the stored usage events of accounts within their
// spans' months, each account's together and in (at, event_id) order, by
// one query an account through the key (SQLite, where a query costs no
// round trip). No query is open when read returns, so that the caller
// may write.
type spanReader struct {
	ctx  context.Context
	d    dialect
	stmt *sqlx.Stmt
}

func newSpanReader(ctx context.Context, tx *sqlx.Tx, d dialect) (*spanReader, error) {
	stmt, err := tx.PreparexContext(ctx, `SELECT account_id, user_id, feature, at FROM usage_events
		WHERE account_id = ? AND at >= ? AND at < ? ORDER BY at, event_id`)
	return &spanReader{ctx: ctx, d: d, stmt: stmt}, err
}

func (r *spanReader) close() { r.stmt.Close() }

// read calls fn with the events of the accounts ids.
func (r *spanReader) read(ids []string, spans map[string]*accountRows, fn func(*features.UsageEvent) error) error {
	for _, id := range ids {
		from, to := saas.MonthOf(spans[id].first).Start(), saas.MonthOf(spans[id].last).End()
		rows, err := r.stmt.QueryContext(r.ctx, id, r.d.timeArg(from), r.d.timeArg(to))
		if err != nil {
			return err
		}
		if err := scanEvents(rows, fn); err != nil {
			return err
		}
	}
	return nil
}

// scanEvents calls fn with each row of rows (account_id, user_id,
// feature, at), and closes rows.
func scanEvents(rows *sql.Rows, fn func(*features.UsageEvent) error) error {
	defer rows.Close()
	var e features.UsageEvent
	for rows.Next() {
		if err := rows.Scan(&e.AccountID, &e.UserID, &e.Feature, dbTime{&e.At}); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// rollupWriter upserts usage_months rows.
type rollupWriter struct {
	ctx  context.Context
	tx   *sqlx.Tx
	d    dialect
	args []any
}

func (w *rollupWriter) add(accountID string, u saas.UsageMonth) {
	w.args = append(w.args, w.d.timeArg(u.Month.Start()), accountID, u.Users, u.UserDays, u.Features, w.d.timeArg(u.Last))
}

// flush writes the rows added since the last flush, rollupBatchRows a
// statement. A row that is stored as it is written is left alone.
func (w *rollupWriter) flush() error {
	cols := []string{"users", "user_days", "features", "last_at"}
	set := make([]string, len(cols))
	differ := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = excluded." + c
		differ[i] = "usage_months." + c + " IS DISTINCT FROM excluded." + c
	}
	const ncol = 6
	for start := 0; start < len(w.args); start += rollupBatchRows * ncol {
		args := w.args[start:min(start+rollupBatchRows*ncol, len(w.args))]
		q := "INSERT INTO usage_months (month, account_id, users, user_days, features, last_at) " + valuesList(len(args)/ncol, ncol) +
			" ON CONFLICT (month, account_id) DO UPDATE SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(differ, " OR ")
		if _, err := w.tx.ExecContext(w.ctx, w.tx.Rebind(q), args...); err != nil {
			return err
		}
	}
	w.args = w.args[:0]
	return nil
}

// EachUsageMonth calls fn with the usage rollup summed by month, in month
// order: for each month with usage events, the accounts active in it and
// their users, user-days and features (saas.UsageMonth), read from the
// rollup rather than from the events, once it has rebuilt the months that
// loads since the last read marked stale (on the writer: on SQLite it
// waits for a load that holds it).
func (s *Store) EachUsageMonth(ctx context.Context, fn func(saas.UsageMonth) error) error {
	if err := s.refreshUsageRollup(ctx); err != nil {
		return err
	}
	total := func(c string) string {
		if s.dialect.name() == "postgres" {
			return "CAST(sum(" + c + ") AS BIGINT)" // a sum of BIGINT is NUMERIC
		}
		return "sum(" + c + ")"
	}
	rows, err := s.r.QueryContext(ctx, "SELECT month, count(*), "+total("users")+", "+total("user_days")+", "+total("features")+
		", max(last_at) FROM usage_months GROUP BY month ORDER BY month")
	if err != nil {
		return fmt.Errorf("reading the usage rollup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			u     saas.UsageMonth
			month time.Time
		)
		if err := rows.Scan(dbTime{&month}, &u.Accounts, &u.Users, &u.UserDays, &u.Features, dbTime{&u.Last}); err != nil {
			return fmt.Errorf("reading the usage rollup: %w", err)
		}
		u.Month = saas.MonthOf(month)
		if err := fn(u); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the usage rollup: %w", err)
	}
	return nil
}
