package store

import (
	"context"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/score"
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

// SweepPlan returns the database's plan for the query with which a sweep
// of shard reads table t, one line a node: EXPLAIN ANALYZE's, with actual
// row counts, on PostgreSQL; EXPLAIN QUERY PLAN's details on SQLite.
func (s *Store) SweepPlan(ctx context.Context, t features.Table, shard Shard) ([]string, error) {
	order := orderColumns(t)
	explain := "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
	if s.dialect.name() == "sqlite" {
		order, explain = keyColumns(t), "EXPLAIN QUERY PLAN "
	}
	q := sweepQuery(s.dialect.name(), t, order, shardSpan(shard))
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(explain+q.sql), q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var plan []string
	for rows.Next() {
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(any)
		}
		var line string
		dest[len(cols)-1] = &line // QUERY PLAN, or SQLite's detail
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		plan = append(plan, line)
	}
	return plan, rows.Err()
}

// WholeSweepPlan returns PostgreSQL's plan, EXPLAIN's lines, for the
// query with which a sweep of every account reads table t, with the
// planner made to prefer sorting (random pages cost 1000 times a
// sequential one) and, when settings, under the sweep's own settings.
func (s *Store) WholeSweepPlan(ctx context.Context, t features.Table, settings bool) ([]string, error) {
	tx, err := s.r.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := sweepQuery(s.dialect.name(), t, orderColumns(t), span{})
	setup := "SET LOCAL random_page_cost = 1000"
	if settings {
		setup += "; " + sweepSettings(q)
	}
	for _, stmt := range strings.Split(setup, "; ") {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return nil, err
		}
	}
	var plan []string
	err = tx.SelectContext(ctx, &plan, "EXPLAIN (COSTS OFF) "+q.sql)
	return plan, err
}

// ShardBuckets returns, on PostgreSQL, the stored bucket of each account
// in table t.
func (s *Store) ShardBuckets(ctx context.Context, t features.Table) (map[string]int, error) {
	var rows []struct {
		ID     string `db:"account_id"`
		Bucket int    `db:"shard_bucket"`
	}
	if err := s.r.SelectContext(ctx, &rows, "SELECT DISTINCT account_id, shard_bucket FROM "+string(t)); err != nil {
		return nil, err
	}
	got := make(map[string]int, len(rows))
	for _, r := range rows {
		got[r.ID] = r.Bucket
	}
	return got, nil
}

// UniqueIndexes returns, on PostgreSQL, every unique index of the tables
// of the store's schema that have an account_id column, and whether its
// key contains account_id.
func (s *Store) UniqueIndexes(ctx context.Context) (map[string]bool, error) {
	var rows []struct {
		Name    string `db:"name"`
		Account bool   `db:"has_account"`
	}
	err := s.r.SelectContext(ctx, &rows, `
		SELECT i.indexrelid::regclass::text AS name, a.attnum = ANY (i.indkey) AS has_account
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'account_id' AND NOT a.attisdropped
		WHERE c.relnamespace = current_schema()::regnamespace AND i.indisunique`)
	if err != nil {
		return nil, err
	}
	got := make(map[string]bool, len(rows))
	for _, r := range rows {
		got[r.Name] = r.Account
	}
	return got, nil
}

// QueryString returns the one text value that q, with ? placeholders,
// selects.
func (s *Store) QueryString(ctx context.Context, q string, args ...any) (string, error) {
	var v string
	err := s.r.GetContext(ctx, &v, s.r.Rebind(q), args...)
	return v, err
}

// SetSnapshotAccounts sets how many accounts a Snapshot reads at once,
// until the returned function restores it.
func SetSnapshotAccounts(n int) (restore func()) {
	old := snapshotAccounts
	snapshotAccounts = n
	return func() { snapshotAccounts = old }
}

// ScoreRowsPlans returns SQLite's EXPLAIN QUERY PLAN details of the
// queries of ScoreRows and CountScoreRows for q, one line a node.
func (s *Store) ScoreRowsPlans(ctx context.Context, q score.ListQuery) (list, count []string, err error) {
	query, args, err := s.scoreRowsQuery(&q)
	if err != nil {
		return nil, nil, err
	}
	if list, err = s.queryPlan(ctx, query, args); err != nil {
		return nil, nil, err
	}
	if query, args, err = s.countQuery(&q); err != nil {
		return nil, nil, err
	}
	count, err = s.queryPlan(ctx, query, args)
	return list, count, err
}

func (s *Store) queryPlan(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

// SetLoadChunkRows makes loads store n rows at a time (PostgreSQL's
// chunks into a filled table, SQLite's merges), so that tests can cross
// chunks with few rows, until the returned function restores the sizes.
func SetLoadChunkRows(n int) (restore func()) {
	pg, lite := postgresChunkRows, sqliteMergeRows
	postgresChunkRows, sqliteMergeRows = n, n
	return func() { postgresChunkRows, sqliteMergeRows = pg, lite }
}
