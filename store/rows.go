package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
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
	case features.Spends:
		return []string{"month", "channel", "kind"}
	}
	return []string{"account_id", t.Key()}
}

// storedColumns returns the columns the store keeps of t, in the order of
// fieldsOf: the canonical columns, and for accounts their attributes.
func storedColumns(t features.Table) []string {
	if t == features.Accounts {
		return accountColumns
	}
	return t.Columns()
}

var accountColumns = append(slices.Clip(features.Accounts.Columns()), "attributes")

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
//
// An accounts row without created_at (noStart, written as the literal
// noStartSQL) keeps the stored account's start, inferred or given.
func upsertSQL(t features.Table, source, noStartSQL string) string {
	cols := storedColumns(t)
	value := func(c string) string {
		if t == features.Accounts && c == "created_at" {
			return "CASE WHEN excluded.created_at = " + noStartSQL + " THEN accounts.created_at ELSE excluded.created_at END"
		}
		return "excluded." + c
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) %s ON CONFLICT (%s) DO UPDATE SET ",
		t, strings.Join(cols, ", "), source, strings.Join(keyColumns(t), ", "))
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = %s", c, value(c))
	}
	if t == features.Accounts {
		b.WriteString(", created_at_inferred = CASE WHEN excluded.created_at = " + noStartSQL + " THEN accounts.created_at_inferred ELSE FALSE END")
	}
	b.WriteString(" WHERE ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "%s.%s IS DISTINCT FROM %s", t, c, value(c))
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

// attributesText is how the attributes column holds an account's
// attributes: a JSON object with sorted keys, "{}" when there are none.
func attributesText(attrs map[string]string) string {
	if len(attrs) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(attrs) // a map of strings always marshals
	return string(b)
}

// fieldsOf appends pointers to rec's fields, in the order of its table's
// storedColumns, to dst, and returns them with that table; "" for a record
// of no table. It is the one place that lists each table's columns, for
// writing rows and for scanning them.
func fieldsOf(dst []any, rec recordio.Record) ([]any, features.Table) {
	switch r := rec.(type) {
	case *features.Account:
		return append(dst, &r.AccountID, &r.Name, &r.Segment, &r.Plan, &r.Seats, &r.Owner, &r.CreatedAt,
			&r.TrialStartedAt, &r.TrialEndsAt, &r.ConvertedAt, &r.ChurnedAt, &r.RenewalAt, &r.MRR, &r.Attributes), features.Accounts
	case *features.UsageEvent:
		return append(dst, &r.EventID, &r.AccountID, &r.UserID, &r.Feature, &r.At, &r.Count, &r.DurationS,
			&r.Errors), features.UsageEvents
	case *features.Ticket:
		return append(dst, &r.TicketID, &r.AccountID, &r.OpenedAt, &r.FirstResponseAt, &r.ResolvedAt,
			&r.Priority, &r.Category, &r.CSAT, &r.Escalated, &r.AgentReplies), features.Tickets
	case *features.Escalation:
		return append(dst, &r.EscalationID, &r.AccountID, &r.At, &r.Direction, &r.Severity, &r.Note), features.Escalations
	case *features.SurveyResponse:
		return append(dst, &r.ResponseID, &r.AccountID, &r.UserID, &r.At, &r.Kind, &r.Score), features.SurveyResponses
	case *features.BillingChange:
		return append(dst, &r.ChangeID, &r.AccountID, &r.At, &r.MRR, &r.Seats, &r.Plan, &r.Kind), features.BillingChanges
	case *features.Spend:
		return append(dst, &r.Month, &r.Channel, &r.Kind, &r.Amount), features.Spends
	}
	return dst, ""
}

// newRecord returns a new, zero record of table t, or nil for an unknown
// table.
func newRecord(t features.Table) recordio.Record {
	switch t {
	case features.Accounts:
		return &features.Account{}
	case features.UsageEvents:
		return &features.UsageEvent{}
	case features.Tickets:
		return &features.Ticket{}
	case features.Escalations:
		return &features.Escalation{}
	case features.SurveyResponses:
		return &features.SurveyResponse{}
	case features.BillingChanges:
		return &features.BillingChange{}
	case features.Spends:
		return &features.Spend{}
	}
	return nil
}

// writeRow writes the values of rec, a record of table t, to w in
// canonical column order.
func writeRow(w rowWriter, t features.Table, rec recordio.Record) error {
	// On the stack: storing the field pointers costs no write barriers.
	var buf [16]any
	fields, table := fieldsOf(buf[:0], rec)
	if table != t {
		return fmt.Errorf("a %T is not a record of table %s", rec, t)
	}
	for _, f := range fields {
		switch f := f.(type) {
		case *string:
			w.text(*f)
		case *int:
			w.int(int64(*f))
		case *float64:
			w.float(*f)
		case *bool:
			w.bool(*f)
		case *time.Time:
			w.time(*f)
		case *map[string]string:
			w.text(attributesText(*f))
		}
	}
	return nil
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

// dbAttributes scans the attributes column; "{}" is nil, no attributes.
type dbAttributes struct{ m *map[string]string }

func (d dbAttributes) Scan(src any) error {
	var text []byte
	switch v := src.(type) {
	case string:
		text = []byte(v)
	case []byte:
		text = v
	default:
		return fmt.Errorf("cannot scan %T as attributes", src)
	}
	*d.m = nil
	if string(text) == "{}" {
		return nil
	}
	return json.Unmarshal(text, d.m)
}

// scanRow scans one row of table t, selected in canonical column order,
// into a new record.
func scanRow(rows *sql.Rows, t features.Table) (recordio.Record, error) {
	rec := newRecord(t)
	if rec == nil {
		return nil, fmt.Errorf("unknown table %q", t)
	}
	dest, _ := fieldsOf(make([]any, 0, 16), rec)
	for i, f := range dest {
		switch f := f.(type) {
		case *time.Time:
			dest[i] = dbTime{f}
		case *int:
			dest[i] = dbInt{f}
		case *map[string]string:
			dest[i] = dbAttributes{f}
		}
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, fmt.Errorf("scanning %s: %w", t, err)
	}
	return rec, nil
}
