package store

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// keyColumns returns the columns of t's primary key: account_id first, so
// that every table can be distributed by account_id. A usage event never
// changes once it happened, so its time is part of its key: the one index
// that makes loads idempotent is then also the (account_id, time) order
// the feature sweep reads in, and a load maintains one index, not two.
func keyColumns(t features.Table) []string {
	switch t {
	case features.Accounts:
		return []string{"account_id"}
	case features.UsageEvents:
		return []string{"account_id", t.TimeColumn(), t.Key()}
	}
	return []string{"account_id", t.Key()}
}

// timeColumn returns the column Stats reports and reads order by: the
// table's time column, or created_at for accounts.
func timeColumn(t features.Table) string {
	if c := t.TimeColumn(); c != "" {
		return c
	}
	return "created_at"
}

// upsertSQL returns the statement that stores the rows of source (a VALUES
// list or a SELECT, in canonical column order) into t. A stored row with
// the same key is replaced only when some column differs, so that
// re-loading an unchanged file writes nothing.
func upsertSQL(t features.Table, source string) string {
	cols := t.Columns()
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) %s ON CONFLICT (%s) DO UPDATE SET ",
		t, strings.Join(cols, ", "), source, strings.Join(keyColumns(t), ", "))
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = excluded.%s", c, c)
	}
	b.WriteString(" WHERE ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "%s.%s IS DISTINCT FROM excluded.%s", t, c, c)
	}
	return b.String()
}

// A rowWriter takes the values of one row, in canonical column order.
// Each method appends one column; writeRow calls the one that matches the
// column's type in the schema.
type rowWriter interface {
	text(string)
	int(int64)
	float(float64)
	bool(bool)
	time(time.Time) // the zero time is NULL
}

// writeRow writes the values of rec, in the canonical column order of
// table t, to w.
func writeRow(w rowWriter, t features.Table, rec recordio.Record) error {
	switch r := rec.(type) {
	case *features.Account:
		if t == features.Accounts {
			w.text(r.AccountID)
			w.text(r.Name)
			w.text(r.Segment)
			w.text(r.Plan)
			w.int(int64(r.Seats))
			w.text(r.Owner)
			w.time(r.CreatedAt)
			w.time(r.TrialStartedAt)
			w.time(r.TrialEndsAt)
			w.time(r.ConvertedAt)
			w.time(r.ChurnedAt)
			w.time(r.RenewalAt)
			w.float(r.MRR)
			return nil
		}
	case *features.UsageEvent:
		if t == features.UsageEvents {
			w.text(r.EventID)
			w.text(r.AccountID)
			w.text(r.UserID)
			w.text(r.Feature)
			w.time(r.At)
			w.int(int64(r.Count))
			w.float(r.DurationS)
			w.int(int64(r.Errors))
			return nil
		}
	case *features.Ticket:
		if t == features.Tickets {
			w.text(r.TicketID)
			w.text(r.AccountID)
			w.time(r.OpenedAt)
			w.time(r.FirstResponseAt)
			w.time(r.ResolvedAt)
			w.text(r.Priority)
			w.text(r.Category)
			w.int(int64(r.CSAT))
			w.bool(r.Escalated)
			return nil
		}
	case *features.Escalation:
		if t == features.Escalations {
			w.text(r.EscalationID)
			w.text(r.AccountID)
			w.time(r.At)
			w.text(r.Direction)
			w.text(r.Severity)
			w.text(r.Note)
			return nil
		}
	case *features.SurveyResponse:
		if t == features.SurveyResponses {
			w.text(r.ResponseID)
			w.text(r.AccountID)
			w.text(r.UserID)
			w.time(r.At)
			w.text(r.Kind)
			w.int(int64(r.Score))
			return nil
		}
	case *features.BillingChange:
		if t == features.BillingChanges {
			w.text(r.ChangeID)
			w.text(r.AccountID)
			w.time(r.At)
			w.float(r.MRR)
			w.int(int64(r.Seats))
			w.text(r.Plan)
			w.text(r.Kind)
			return nil
		}
	}
	return fmt.Errorf("a %T is not a record of table %s", rec, t)
}

// argsWriter collects rows as query arguments, times converted by the
// dialect's timeArg.
type argsWriter struct {
	args    []any
	timeArg func(time.Time) any
}

func (w *argsWriter) text(s string)    { w.args = append(w.args, s) }
func (w *argsWriter) int(n int64)      { w.args = append(w.args, n) }
func (w *argsWriter) float(f float64)  { w.args = append(w.args, f) }
func (w *argsWriter) bool(b bool)      { w.args = append(w.args, b) }
func (w *argsWriter) time(t time.Time) { w.args = append(w.args, w.timeArg(t)) }

// dbTime scans a time stored by either dialect: INTEGER microseconds on
// SQLite, TIMESTAMPTZ on PostgreSQL, NULL for "not set" (the zero time).
type dbTime struct{ t *time.Time }

func (d dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	case time.Time:
		*d.t = v.UTC()
	default:
		return fmt.Errorf("cannot scan %T as a time", src)
	}
	return nil
}

// dbInt scans an integer column into an int.
type dbInt struct{ n *int }

func (d dbInt) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("cannot scan %T as an integer", src)
	}
	*d.n = int(v)
	return nil
}

// scanRow scans one row of table t, selected in canonical column order,
// into a new record.
func scanRow(rows *sql.Rows, t features.Table) (recordio.Record, error) {
	var (
		rec  recordio.Record
		dest []any
	)
	switch t {
	case features.Accounts:
		r := &features.Account{}
		rec, dest = r, []any{&r.AccountID, &r.Name, &r.Segment, &r.Plan, dbInt{&r.Seats}, &r.Owner, dbTime{&r.CreatedAt},
			dbTime{&r.TrialStartedAt}, dbTime{&r.TrialEndsAt}, dbTime{&r.ConvertedAt}, dbTime{&r.ChurnedAt}, dbTime{&r.RenewalAt}, &r.MRR}
	case features.UsageEvents:
		r := &features.UsageEvent{}
		rec, dest = r, []any{&r.EventID, &r.AccountID, &r.UserID, &r.Feature, dbTime{&r.At}, dbInt{&r.Count}, &r.DurationS, dbInt{&r.Errors}}
	case features.Tickets:
		r := &features.Ticket{}
		rec, dest = r, []any{&r.TicketID, &r.AccountID, dbTime{&r.OpenedAt}, dbTime{&r.FirstResponseAt}, dbTime{&r.ResolvedAt},
			&r.Priority, &r.Category, dbInt{&r.CSAT}, &r.Escalated}
	case features.Escalations:
		r := &features.Escalation{}
		rec, dest = r, []any{&r.EscalationID, &r.AccountID, dbTime{&r.At}, &r.Direction, &r.Severity, &r.Note}
	case features.SurveyResponses:
		r := &features.SurveyResponse{}
		rec, dest = r, []any{&r.ResponseID, &r.AccountID, &r.UserID, dbTime{&r.At}, &r.Kind, dbInt{&r.Score}}
	case features.BillingChanges:
		r := &features.BillingChange{}
		rec, dest = r, []any{&r.ChangeID, &r.AccountID, dbTime{&r.At}, &r.MRR, dbInt{&r.Seats}, &r.Plan, &r.Kind}
	default:
		return nil, fmt.Errorf("unknown table %q", t)
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, fmt.Errorf("scanning %s: %w", t, err)
	}
	return rec, nil
}
