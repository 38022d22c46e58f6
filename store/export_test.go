package store

import (
	"context"
	"time"
)

// MigrateTo applies the migrations up to version v, so that tests can
// upgrade a store that holds data.
func (s *Store) MigrateTo(ctx context.Context, v int) ([]string, error) { return s.migrate(ctx, v) }

// ExecRaw runs q, with ? placeholders, on the writer; time arguments are
// stored as the dialect stores them.
func (s *Store) ExecRaw(ctx context.Context, q string, args ...any) error {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = s.dialect.timeArg(t)
		}
	}
	_, err := s.w.ExecContext(ctx, s.w.Rebind(q), args...)
	return err
}

// IndexDefinitions returns, on PostgreSQL, the definitions of the indexes
// of the store's schema, sorted.
func (s *Store) IndexDefinitions(ctx context.Context) ([]string, error) {
	var defs []string
	err := s.r.SelectContext(ctx, &defs, "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexdef")
	return defs, err
}
