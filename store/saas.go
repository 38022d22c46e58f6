package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/serving/score"
)

// Each calls fn with every record of table t, until fn returns an error,
// which it then returns. The records of an account table come in
// (account_id, time column, key) order, accounts by account_id; spend in
// key order. It reads the one table, which is what the SaaS metrics need,
// without assembling histories. fn must not keep the record.
func (s *Store) Each(ctx context.Context, t features.Table, fn func(recordio.Record) error) error {
	order := keyColumns(t)
	if t != features.Spends {
		order = orderColumns(t)
	}
	q := "SELECT " + strings.Join(storedColumns(t), ", ") + " FROM " + string(t) + " ORDER BY " + strings.Join(order, ", ")
	return s.each(ctx, t, q, nil, fn)
}

// afterAllRecords is a time after every time a record may hold
// (features limits years to 9999).
var afterAllRecords = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// EachTrialKeyUse calls fn, in account_id order, with every trial
// account that used one of the features names from the start of its trial
// (before trial_ends_at when that is set), and the times of its first and
// last such use: all that trial activation depends on
// (saas.Book.AddTrialKeyUse). The database finds them through the
// (account_id, at) key, and returns one row a trial rather than its
// events.
func (s *Store) EachTrialKeyUse(ctx context.Context, names []string, fn func(accountID string, first, last time.Time) error) error {
	if len(names) == 0 {
		return nil
	}
	// Both bounds of the time are on the key, so only the events of the
	// trial are read: a trial without an end ends after every time a
	// record may hold.
	use := `u.account_id = a.account_id AND u.at >= a.trial_started_at AND u.at < COALESCE(a.trial_ends_at, ?)
		AND u.feature IN (?` + strings.Repeat(", ?", len(names)-1) + `)`
	// CROSS JOIN makes SQLite loop over the accounts and search each
	// one's events by key, where it would otherwise scan every event.
	// PostgreSQL would hash-join a scan of every event, so a LATERAL
	// subquery makes it search each trial's events by key too.
	q := `SELECT a.account_id, min(u.at), max(u.at) FROM accounts a CROSS JOIN usage_events u
		WHERE a.trial_started_at IS NOT NULL AND ` + use + ` GROUP BY a.account_id ORDER BY a.account_id`
	if s.dialect.name() == "postgres" {
		q = `SELECT a.account_id, f.first, f.last FROM accounts a
			CROSS JOIN LATERAL (SELECT min(u.at) AS first, max(u.at) AS last FROM usage_events u WHERE ` + use + `) f
			WHERE a.trial_started_at IS NOT NULL AND f.first IS NOT NULL ORDER BY a.account_id`
	}
	args := []any{s.dialect.timeArg(afterAllRecords)}
	for _, n := range names {
		args = append(args, n)
	}
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("reading trials' key-feature use: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id          string
			first, last time.Time
		)
		if err := rows.Scan(&id, dbTime{&first}, dbTime{&last}); err != nil {
			return fmt.Errorf("reading trials' key-feature use: %w", err)
		}
		if err := fn(id, first, last); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading trials' key-feature use: %w", err)
	}
	return nil
}

// EachSupportTicket calls fn with every ticket in the order Each reads
// them, (account_id, opened_at, ticket_id), holding only what the SaaS
// metrics read of a ticket (saas.Book.AddTicket): its times, category,
// CSAT and agent replies; the ids and the priority are left empty. fn
// must not keep the ticket.
func (s *Store) EachSupportTicket(ctx context.Context, fn func(*features.Ticket) error) error {
	var t features.Ticket
	return s.eachGroup(ctx, "tickets", "SELECT opened_at, first_response_at, resolved_at, category, csat, agent_replies FROM tickets ORDER BY "+
		strings.Join(orderColumns(features.Tickets), ", "),
		func(rows *sql.Rows) error {
			if err := rows.Scan(dbTime{&t.OpenedAt}, dbTime{&t.FirstResponseAt}, dbTime{&t.ResolvedAt}, &t.Category, &t.CSAT, &t.AgentReplies); err != nil {
				return err
			}
			return fn(&t)
		})
}

// EachEscalationCount calls fn, in (day, direction) order, with the
// escalations counted by the calendar day (UTC) of their time and by
// direction, and the latest time of each count: all the SaaS metrics read
// of them (saas.Book.AddEscalations takes the day's month). The database
// counts them, so one row a day and direction crosses, not one an
// escalation.
func (s *Store) EachEscalationCount(ctx context.Context, fn func(day time.Time, direction string, n int, last time.Time) error) error {
	var (
		start, last time.Time
		direction   string
		n           int
	)
	return s.eachGroup(ctx, "escalation counts", "SELECT "+s.dayStart("at")+" AS day, direction, count(*), max(at) FROM escalations GROUP BY day, direction ORDER BY day, direction",
		func(rows *sql.Rows) error {
			if err := rows.Scan(dbTime{&start}, &direction, &n, dbTime{&last}); err != nil {
				return err
			}
			return fn(start, direction, n, last)
		})
}

// EachSurveyCount calls fn, in (day, kind, score) order, with the survey
// responses counted by the calendar day (UTC) of their time, by kind and
// by score, and the latest time of each count: all the SaaS metrics read
// of them (saas.Book.AddSurveyResponses takes the day's month), counted
// by the database.
func (s *Store) EachSurveyCount(ctx context.Context, fn func(day time.Time, kind string, score, n int, last time.Time) error) error {
	var (
		start, last time.Time
		kind        string
		score, n    int
	)
	return s.eachGroup(ctx, "survey counts", "SELECT "+s.dayStart("at")+" AS day, kind, score, count(*), max(at) FROM survey_responses GROUP BY day, kind, score ORDER BY day, kind, score",
		func(rows *sql.Rows) error {
			if err := rows.Scan(dbTime{&start}, &kind, &score, &n, dbTime{&last}); err != nil {
				return err
			}
			return fn(start, kind, score, n, last)
		})
}

// dayStart returns the SQL for the start of the calendar day (UTC) of the
// time column col, as a time column. Days, not months, since SQLite finds
// a day by arithmetic but a month only by a date function, which costs
// more per row than the few more rows cost.
func (s *Store) dayStart(col string) string {
	if s.dialect.name() == "postgres" {
		return "date_trunc('day', " + col + " AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
	}
	// Microseconds since 1970, never before (package features refuses
	// earlier times), so the division truncates to the day.
	return "(" + col + " / 86400000000) * 86400000000"
}

// eachGroup runs q on the reader and calls scan with rows at each row;
// what names the rows in errors, scan's included.
func (s *Store) eachGroup(ctx context.Context, what, q string, scan func(*sql.Rows) error) error {
	return eachQueried(ctx, s.r, what, q, nil, func(rows *sql.Rows) error {
		if err := scan(rows); err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
		return nil
	})
}

// each runs q, which selects rows of t in canonical column order, and
// calls fn with each.
func (s *Store) each(ctx context.Context, t features.Table, q string, args []any, fn func(recordio.Record) error) error {
	return eachRow(ctx, s.r, t, q, args, fn)
}

// eachRow runs q on r, which selects rows of t in canonical column order,
// and calls fn with each.
func eachRow(ctx context.Context, r reader, t features.Table, q string, args []any, fn func(recordio.Record) error) error {
	return eachQueried(ctx, r, string(t), q, args, func(rows *sql.Rows) error {
		rec, err := scanRow(rows, t)
		if err != nil {
			return err
		}
		return fn(rec)
	})
}

// eachQueried runs q with args on r and calls scan with rows at each row,
// returning scan's first error as it is; what names the rows in the
// errors of the query itself.
func eachQueried(ctx context.Context, r reader, what, q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return nil
}

// EachBillingChange calls Each for the billing changes, which come in
// (account_id, at) order.
func (s *Store) EachBillingChange(ctx context.Context, fn func(*features.BillingChange) error) error {
	return s.Each(ctx, features.BillingChanges, func(rec recordio.Record) error { return fn(rec.(*features.BillingChange)) })
}

// EachFirstPQL calls fn with every account that a stored score of task
// flagged as a product-qualified lead, and the as-of time of its first
// such score, in account_id order.
func (s *Store) EachFirstPQL(ctx context.Context, task string, fn func(accountID string, at time.Time) error) error {
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(`SELECT account_id, min(as_of) FROM scores
		WHERE task = ? AND pql = ? GROUP BY account_id ORDER BY account_id`), task, true)
	if err != nil {
		return fmt.Errorf("reading PQL flags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			at time.Time
		)
		if err := rows.Scan(&id, dbTime{&at}); err != nil {
			return fmt.Errorf("reading PQL flags: %w", err)
		}
		if err := fn(id, at); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading PQL flags: %w", err)
	}
	return nil
}

// CurrentRiskTotals sums the current scores of task: how many accounts
// are scored, their ARR, their expected revenue at risk and how many are
// in the red band.
func (s *Store) CurrentRiskTotals(ctx context.Context, task string) (score.RiskTotals, error) {
	var t score.RiskTotals
	err := s.r.QueryRowContext(ctx, s.r.Rebind(`SELECT count(*), COALESCE(sum(arr), 0), COALESCE(sum(revenue_at_risk), 0),
		COALESCE(sum(CASE WHEN band = 'red' THEN 1 ELSE 0 END), 0) FROM current_scores WHERE task = ?`), task).
		Scan(&t.Accounts, &t.ARR, &t.RevenueAtRisk, &t.Red)
	if err != nil {
		return t, fmt.Errorf("summing current %s scores: %w", task, err)
	}
	return t, nil
}
