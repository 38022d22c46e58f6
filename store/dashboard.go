package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/serving/score"
)

// rise and riseARR are the rise of probability since the previous score
// and score.Score.RiseARR on current_scores cs, spelled as the index
// current_scores_task_rise spells them, so that the planners use it.
const (
	rise    = "(cs.probability - cs.previous)"
	riseARR = "((cs.probability - cs.previous) * cs.arr)"
)

// listOrder is the column or expression that q orders by.
func listOrder(q *score.ListQuery) string {
	switch {
	case q.RisingBy > 0:
		return riseARR
	case q.ByRevenueAtRisk:
		return "cs.revenue_at_risk"
	}
	return "cs.probability"
}

// listWhere returns the conditions and arguments of q's filters on
// current_scores cs left-joined to accounts a, its cursor included.
func listWhere(q *score.ListQuery, timeArg func(time.Time) any) ([]string, []any, error) {
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
	if q.AccountIDs != nil {
		if len(q.AccountIDs) == 0 {
			add("1 = 0")
		} else {
			in, inArgs, err := sqlx.In("cs.account_id IN (?)", q.AccountIDs)
			if err != nil {
				return nil, nil, err
			}
			add(in, inArgs...)
		}
	}
	if !q.RenewsBefore.IsZero() {
		add("a.renewal_at >= ? AND a.renewal_at < ?", timeArg(q.RenewsFrom), timeArg(q.RenewsBefore))
	}
	if q.RisingBy > 0 {
		add(rise+" >= ? AND "+riseARR+" > 0", q.RisingBy)
	}
	if q.After != nil {
		order := listOrder(q)
		add("("+order+" < ? OR ("+order+" = ? AND cs.account_id > ?))", q.After.Value, q.After.Value, q.After.AccountID)
	}
	return where, args, nil
}

// ScoreRows lists current scores for q, highest first, each with its
// account's name, segment, plan, trial end, renewal and open alerts. Each
// order walks an index of current_scores; the segment and renewal filters
// read each candidate's accounts row by key. A listing of AccountIDs reads
// them by key and is ordered here: walking an order's index for a few
// accounts would read every row before them.
func (s *Store) ScoreRows(ctx context.Context, q score.ListQuery) ([]score.Row, error) {
	query, args, err := s.scoreRowsQuery(&q)
	if err != nil {
		return nil, fmt.Errorf("listing scores: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
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
	if q.AccountIDs != nil {
		value := listValue(&q)
		slices.SortFunc(out, func(a, b score.Row) int {
			if c := cmp.Compare(value(&b.Score), value(&a.Score)); c != 0 {
				return c
			}
			return cmp.Compare(a.AccountID, b.AccountID)
		})
		out = out[:min(len(out), max(q.Limit, 0))]
	}
	return out, nil
}

// listValue returns the figure of a score that q orders by, as listOrder
// names its column.
func listValue(q *score.ListQuery) func(*score.Score) float64 {
	switch {
	case q.RisingBy > 0:
		return (*score.Score).RiseARR
	case q.ByRevenueAtRisk:
		return func(sc *score.Score) float64 { return sc.RevenueAtRisk }
	}
	return func(sc *score.Score) float64 { return sc.Probability }
}

// scoreRowsQuery returns ScoreRows' query for q, bound for the reader,
// and its arguments.
func (s *Store) scoreRowsQuery(q *score.ListQuery) (string, []any, error) {
	where, args, err := listWhere(q, s.dialect.timeArg)
	if err != nil {
		return "", nil, err
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
		WHERE ` + strings.Join(where, " AND ")
	if q.AccountIDs != nil {
		return s.r.Rebind(query), args, nil
	}
	return s.r.Rebind(query + " ORDER BY " + listOrder(q) + " DESC, cs.account_id LIMIT ?"), append(args, q.Limit), nil
}

// CountScoreRows counts the current scores that ScoreRows lists for q
// without its cursor and limit, on the same indexes.
func (s *Store) CountScoreRows(ctx context.Context, q score.ListQuery) (int64, error) {
	query, args, err := s.countQuery(&q)
	if err != nil {
		return 0, fmt.Errorf("counting scores: %w", err)
	}
	var n int64
	if err := s.r.GetContext(ctx, &n, query, args...); err != nil {
		return 0, fmt.Errorf("counting scores: %w", err)
	}
	return n, nil
}

// countQuery returns CountScoreRows' query for q, bound for the reader,
// and its arguments.
func (s *Store) countQuery(q *score.ListQuery) (string, []any, error) {
	c := *q
	c.After = nil
	where, args, err := listWhere(&c, s.dialect.timeArg)
	if err != nil {
		return "", nil, err
	}
	join := ""
	if c.Segment != "" || !c.RenewsBefore.IsZero() {
		join = " JOIN accounts a ON a.account_id = cs.account_id"
	}
	return s.r.Rebind("SELECT count(*) FROM current_scores cs" + join + " WHERE " + strings.Join(where, " AND ")), args, nil
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
