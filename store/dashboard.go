package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/serving/score"
)

// ScoreRows lists current scores for q, highest first, each with its
// account's name, segment, plan, trial end, renewal and open alerts. Each
// order walks an index of current_scores; the segment filter reads each
// candidate's accounts row by key.
func (s *Store) ScoreRows(ctx context.Context, q score.ListQuery) ([]score.Row, error) {
	order := "cs.probability"
	if q.ByRevenueAtRisk {
		order = "cs.revenue_at_risk"
	}
	where, args := []string{"cs.task = ?"}, []any{q.Task}
	add := func(cond string, arg ...any) { where, args = append(where, cond), append(args, arg...) }
	if q.Owner != "" {
		add("cs.owner = ?", q.Owner)
	}
	if q.Band != "" {
		add("cs.band = ?", q.Band)
	}
	if q.Segment != "" {
		add("a.segment = ?", q.Segment)
	}
	if q.PQL != nil {
		add("cs.pql = ?", *q.PQL)
	}
	if q.After != nil {
		add("("+order+" < ? OR ("+order+" = ? AND cs.account_id > ?))", q.After.Value, q.After.Value, q.After.AccountID)
	}
	cols := make([]string, len(scoreColumns))
	for i, c := range scoreColumns {
		cols[i] = "cs." + c
		if c == "detail" && q.WithoutDetail {
			cols[i] = "'{}'"
		}
	}
	query := "SELECT " + strings.Join(cols, ", ") + `, COALESCE(a.name, ''), COALESCE(a.segment, ''), COALESCE(a.plan, ''),
		a.trial_ends_at, a.renewal_at,
		(SELECT count(*) FROM alerts al WHERE al.account_id = cs.account_id AND al.status <> 'resolved')
		FROM current_scores cs LEFT JOIN accounts a ON a.account_id = cs.account_id
		WHERE ` + strings.Join(where, " AND ") + " ORDER BY " + order + " DESC, cs.account_id LIMIT ?"
	args = append(args, q.Limit)
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing scores: %w", err)
	}
	defer rows.Close()
	var out []score.Row
	for rows.Next() {
		var r score.Row
		sc, err := scanScore(scanPrefix{rows, []any{&r.Name, &r.Segment, &r.Plan, dbTime{&r.TrialEndsAt}, dbTime{&r.RenewalAt}, &r.OpenAlerts}})
		if err != nil {
			return nil, fmt.Errorf("listing scores: %w", err)
		}
		r.Score = sc
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing scores: %w", err)
	}
	return out, nil
}

// scanPrefix scans a row whose leading columns are read by another scan
// function and whose trailing columns go to extra.
type scanPrefix struct {
	rows  interface{ Scan(...any) error }
	extra []any
}

func (p scanPrefix) Scan(dst ...any) error { return p.rows.Scan(append(dst, p.extra...)...) }

// HealthTrends returns, for each of the accounts that has scores for
// task, its latest n scores' health, oldest first, in one query.
func (s *Store) HealthTrends(ctx context.Context, task string, accountIDs []string, n int) (map[string][]score.HealthPoint, error) {
	out := make(map[string][]score.HealthPoint, len(accountIDs))
	if len(accountIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT account_id, as_of, health FROM (
		SELECT account_id, as_of, health, row_number() OVER (PARTITION BY account_id ORDER BY as_of DESC, scored_at DESC) AS rn
		FROM scores WHERE task = ? AND account_id IN (?)) ranked
		WHERE rn <= ? ORDER BY account_id, as_of`, task, accountIDs, n)
	if err != nil {
		return nil, fmt.Errorf("reading trends: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading trends: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			p  score.HealthPoint
		)
		if err := rows.Scan(&id, dbTime{&p.AsOf}, &p.Health); err != nil {
			return nil, fmt.Errorf("reading trends: %w", err)
		}
		out[id] = append(out[id], p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading trends: %w", err)
	}
	return out, nil
}

// RiskByBand sums the current scores of task by band, from a covering
// index.
func (s *Store) RiskByBand(ctx context.Context, task string) ([]score.BandTotal, error) {
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(`SELECT band, count(*), COALESCE(sum(arr), 0), COALESCE(sum(revenue_at_risk), 0)
		FROM current_scores WHERE task = ? GROUP BY band ORDER BY band`), task)
	if err != nil {
		return nil, fmt.Errorf("summing scores by band: %w", err)
	}
	defer rows.Close()
	var out []score.BandTotal
	for rows.Next() {
		var b score.BandTotal
		if err := rows.Scan(&b.Band, &b.Accounts, &b.ARR, &b.RevenueAtRisk); err != nil {
			return nil, fmt.Errorf("summing scores by band: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summing scores by band: %w", err)
	}
	return out, nil
}

// Facets lists the distinct owners of task's current scores and the
// distinct segments of accounts, sorted: the choices of the dashboard's
// filters.
func (s *Store) Facets(ctx context.Context, task string) (owners, segments []string, err error) {
	if err := s.r.SelectContext(ctx, &owners, s.r.Rebind("SELECT DISTINCT owner FROM current_scores WHERE task = ? ORDER BY owner"), task); err != nil {
		return nil, nil, fmt.Errorf("listing owners: %w", err)
	}
	if err := s.r.SelectContext(ctx, &segments, "SELECT DISTINCT segment FROM accounts ORDER BY segment"); err != nil {
		return nil, nil, fmt.Errorf("listing segments: %w", err)
	}
	return owners, segments, nil
}
