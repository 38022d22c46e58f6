package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
)

// NegativeEscalationsSince returns the negative escalations at or after
// since, by account and time: what ingestion-time alerts look at.
func (s *Store) NegativeEscalationsSince(ctx context.Context, since time.Time) ([]features.Escalation, error) {
	t := features.Escalations
	rows, err := s.r.QueryContext(ctx, s.r.Rebind("SELECT "+strings.Join(storedColumns(t), ", ")+
		" FROM escalations WHERE direction = ? AND at >= ? ORDER BY account_id, at, escalation_id"),
		features.DirectionNegative, s.dialect.timeArg(since))
	if err != nil {
		return nil, fmt.Errorf("reading recent escalations: %w", err)
	}
	defer rows.Close()
	var out []features.Escalation
	for rows.Next() {
		rec, err := scanRow(rows, t)
		if err != nil {
			return nil, err
		}
		out = append(out, *rec.(*features.Escalation))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading recent escalations: %w", err)
	}
	return out, nil
}
