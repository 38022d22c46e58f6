package store

import (
	"context"
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
// saas.UsageMonth. A load of usage events rebuilds, in its transaction,
// the months from the first to the last of each account's events in the
// load, from the events stored: so the rollup is whatever the events are,
// however often a file is re-sent, whichever stored events a load
// replaced. Events are never deleted, so a month that has a row keeps
// its events, and rebuilding a month is an upsert.

// rollupBatchRows is how many rollup rows one upsert writes (6 columns).
const rollupBatchRows = 256

// rollUpUsage rebuilds, in tx, the usage_months rows of the months that
// spans cover: per account, from the month of its first event in the load
// to that of its last.
func rollUpUsage(ctx context.Context, tx *sqlx.Tx, d dialect, spans map[string]*accountRows) error {
	fail := func(err error) error { return fmt.Errorf("loading usage_events: rolling up usage: %w", err) }
	if len(spans) == 0 {
		return nil
	}
	if d.name() == "postgres" {
		// Two loads rolling up the same account at once would each count
		// only the events they see: the second waits here for the first to
		// commit, and then sees its events.
		if _, err := tx.ExecContext(ctx, "LOCK TABLE usage_months IN EXCLUSIVE MODE"); err != nil {
			return fail(err)
		}
	}
	ids := make([]string, 0, len(spans))
	for id := range spans {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	read, err := tx.PreparexContext(ctx, tx.Rebind(`SELECT user_id, feature, at FROM usage_events
		WHERE account_id = ? AND at >= ? AND at < ? ORDER BY at, event_id`))
	if err != nil {
		return fail(err)
	}
	defer read.Close()
	w := rollupWriter{ctx: ctx, tx: tx, d: d}
	rollup := saas.NewUsageRollup(w.add)
	e := features.UsageEvent{}
	for _, id := range ids {
		span := spans[id]
		from, to := saas.MonthOf(span.first).Start(), saas.MonthOf(span.last).End()
		rows, err := read.QueryContext(ctx, id, d.timeArg(from), d.timeArg(to))
		if err != nil {
			return fail(err)
		}
		e.AccountID = id
		for rows.Next() {
			if err := rows.Scan(&e.UserID, &e.Feature, dbTime{&e.At}); err != nil {
				rows.Close()
				return fail(err)
			}
			if err := rollup.Add(&e); err != nil {
				rows.Close()
				return fail(err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fail(err)
		}
		rollup.Flush()
		if err := w.flushIfFull(); err != nil {
			return fail(err)
		}
	}
	if err := w.flush(); err != nil {
		return fail(err)
	}
	return nil
}

// rollupWriter upserts usage_months rows in batches.
type rollupWriter struct {
	ctx  context.Context
	tx   *sqlx.Tx
	d    dialect
	args []any
}

func (w *rollupWriter) add(accountID string, u saas.UsageMonth) {
	w.args = append(w.args, w.d.timeArg(u.Month.Start()), accountID, u.Users, u.UserDays, u.Features, w.d.timeArg(u.Last))
}

func (w *rollupWriter) flushIfFull() error {
	if len(w.args) < rollupBatchRows*6 {
		return nil
	}
	return w.flush()
}

// flush writes the rows added since the last flush. A row that is stored
// as it is written is left alone.
func (w *rollupWriter) flush() error {
	if len(w.args) == 0 {
		return nil
	}
	cols := []string{"users", "user_days", "features", "last_at"}
	set := make([]string, len(cols))
	differ := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = excluded." + c
		differ[i] = "usage_months." + c + " IS DISTINCT FROM excluded." + c
	}
	q := "INSERT INTO usage_months (month, account_id, users, user_days, features, last_at) " + valuesList(len(w.args)/6, 6) +
		" ON CONFLICT (month, account_id) DO UPDATE SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(differ, " OR ")
	if _, err := w.tx.ExecContext(w.ctx, w.tx.Rebind(q), w.args...); err != nil {
		return err
	}
	w.args = w.args[:0]
	return nil
}

// EachUsageMonth calls fn with the usage rollup summed by month, in month
// order: for each month with usage events, the accounts active in it and
// their users, user-days and features (saas.UsageMonth), read from the
// rollup that loads keep rather than from the events.
func (s *Store) EachUsageMonth(ctx context.Context, fn func(saas.UsageMonth) error) error {
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
