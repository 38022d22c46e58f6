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
// that every table can be distributed by account_id.
func keyColumns(t features.Table) []string {
	if t == features.Accounts {
		return []string{"account_id"}
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

// timeFunc converts a time to a query argument of the dialect; the zero
// time, which records use for "not set", is NULL.
type timeFunc func(time.Time) any

// appendRow appends the values of rec, in the canonical column order of
// table t, to dst.
func appendRow(dst []any, t features.Table, rec recordio.Record, tv timeFunc) ([]any, error) {
	switch r := rec.(type) {
	case *features.Account:
		if t == features.Accounts {
			return append(dst, r.AccountID, r.Name, r.Segment, r.Plan, int64(r.Seats), r.Owner, tv(r.CreatedAt),
				tv(r.TrialStartedAt), tv(r.TrialEndsAt), tv(r.ConvertedAt), tv(r.ChurnedAt), tv(r.RenewalAt), r.MRR), nil
		}
	case *features.UsageEvent:
		if t == features.UsageEvents {
			return append(dst, r.EventID, r.AccountID, r.UserID, r.Feature, tv(r.At), int64(r.Count), r.DurationS, int64(r.Errors)), nil
		}
	case *features.Ticket:
		if t == features.Tickets {
			return append(dst, r.TicketID, r.AccountID, tv(r.OpenedAt), tv(r.FirstResponseAt), tv(r.ResolvedAt),
				r.Priority, r.Category, int64(r.CSAT), r.Escalated), nil
		}
	case *features.Escalation:
		if t == features.Escalations {
			return append(dst, r.EscalationID, r.AccountID, tv(r.At), r.Direction, r.Severity, r.Note), nil
		}
	case *features.SurveyResponse:
		if t == features.SurveyResponses {
			return append(dst, r.ResponseID, r.AccountID, r.UserID, tv(r.At), r.Kind, int64(r.Score)), nil
		}
	case *features.BillingChange:
		if t == features.BillingChanges {
			return append(dst, r.ChangeID, r.AccountID, tv(r.At), r.MRR, int64(r.Seats), r.Plan, r.Kind), nil
		}
	}
	return dst, fmt.Errorf("a %T is not a record of table %s", rec, t)
}

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
