package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/openchurn/churn/features"
)

// EachBillingChange calls fn with every billing change in (account_id, at)
// order, until fn returns an error, which it then returns. It reads the
// billing table alone, which is what revenue metrics need, without the
// usage events a full history sweep would bring.
func (s *Store) EachBillingChange(ctx context.Context, fn func(*features.BillingChange) error) error {
	t := features.BillingChanges
	rows, err := s.r.QueryContext(ctx, "SELECT "+strings.Join(storedColumns(t), ", ")+" FROM "+string(t)+
		" ORDER BY "+strings.Join(orderColumns(t), ", "))
	if err != nil {
		return fmt.Errorf("reading billing changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := scanRow(rows, t)
		if err != nil {
			return err
		}
		if err := fn(rec.(*features.BillingChange)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading billing changes: %w", err)
	}
	return nil
}

// RiskTotals sums the current scores of a task.
type RiskTotals struct {
	Accounts      int64   `json:"accounts"`
	ARR           float64 `json:"arr"`
	RevenueAtRisk float64 `json:"revenue_at_risk"`
	Red           int64   `json:"red"`
}

// CurrentRiskTotals sums the current scores of task: how many accounts
// are scored, their ARR, their expected revenue at risk and how many are
// in the red band.
func (s *Store) CurrentRiskTotals(ctx context.Context, task string) (RiskTotals, error) {
	var t RiskTotals
	err := s.r.QueryRowContext(ctx, s.r.Rebind(`SELECT count(*), COALESCE(sum(arr), 0), COALESCE(sum(revenue_at_risk), 0),
		COALESCE(sum(CASE WHEN band = 'red' THEN 1 ELSE 0 END), 0) FROM current_scores WHERE task = ?`), task).
		Scan(&t.Accounts, &t.ARR, &t.RevenueAtRisk, &t.Red)
	if err != nil {
		return t, fmt.Errorf("summing current %s scores: %w", task, err)
	}
	return t, nil
}
