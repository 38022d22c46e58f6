package store

import (
	"context"
	"fmt"
)

// Ping checks that the store answers a query, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("pinging store: %w", err)
	}
	return nil
}
