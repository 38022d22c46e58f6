package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
)

type sqliteDialect struct{}

func (sqliteDialect) name() string { return "sqlite" }

func (sqliteDialect) columnTypes() columnTypes {
	return columnTypes{Dialect: "sqlite", ID: "TEXT", Text: "TEXT", Int: "INTEGER", Float: "REAL", Bool: "INTEGER", False: "0",
		Time: "INTEGER", WithoutRowID: " WITHOUT ROWID"}
}

// timeArg stores times as microseconds since the Unix epoch.
func (sqliteDialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// lockMigrations has nothing to do: the writer's transactions begin
// IMMEDIATE, which already excludes other writers.
func (sqliteDialect) lockMigrations(context.Context, *sqlx.Tx) error { return nil }

// sweepRows scans q's rows with database/sql.
func (sqliteDialect) sweepRows(ctx context.Context, db *sqlx.DB, t features.Table, q query) (rowStream, error) {
	rows, err := db.QueryContext(ctx, db.Rebind(q.sql), q.args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{t: t, rows: rows}, nil
}

// sqliteBatchRows is how many rows one INSERT into the staging table
// carries. Larger batches amortise statement overhead until the
// bound-parameter count (13 columns × 256 rows for accounts) stays well
// under SQLite's limit of 32766.
const sqliteBatchRows = 256

// sqliteMergeRows is how many staged rows one merge statement stores. A
// statement that may fail halfway copies every page it changes, the first
// time, to its statement journal, so that it can be undone alone; a
// merge of many rows in key order changes each page once for many rows.
// The staged rows are held in memory (temp_store), about 100 bytes each
// for usage events.
var sqliteMergeRows = 1 << 18

// load stages src's records in a temporary table, in batches of prepared
// multi-row INSERTs, and every sqliteMergeRows rows, and at the end,
// upserts them into t with one INSERT … SELECT … ORDER BY key … ON
// CONFLICT. In key order the merge visits t's pages one after the other,
// where the records' own order (usage events come by time, not by
// account) would visit a page of t and of each index per row and journal
// each page per statement. SQLite reports rows inserted or updated
// together, so inserted rows are counted as the growth of the table.
func (d sqliteDialect) load(ctx context.Context, _ *sqlx.Conn, tx *sqlx.Tx, t features.Table, src load.Source) (load.Result, error) {
	var res load.Result
	before, err := countRows(ctx, tx, t)
	if err != nil {
		return res, err
	}
	cols := strings.Join(storedColumns(t), ", ")
	// A dry run's loads share one transaction: the last one's staging
	// table may still be there. The table takes t's column names and
	// types but none of its constraints, so that staging a row checks
	// nothing: the merge checks it.
	if err := execAll(ctx, tx, []string{"DROP TABLE IF EXISTS temp.load_staging",
		"CREATE TEMP TABLE load_staging AS SELECT " + cols + " FROM main." + string(t) + " WHERE false"}); err != nil {
		return res, fmt.Errorf("loading %s: creating staging table: %w", t, err)
	}
	ncol := len(storedColumns(t))
	stage := func(rows int) string { return "INSERT INTO temp.load_staging (" + cols + ") " + valuesList(rows, ncol) }
	full, err := tx.PrepareContext(ctx, stage(sqliteBatchRows))
	if err != nil {
		return res, fmt.Errorf("loading %s: preparing: %w", t, err)
	}
	defer full.Close()
	merge := upsertSQL(t, "SELECT "+cols+" FROM temp.load_staging WHERE true ORDER BY "+strings.Join(keyColumns(t), ", "),
		strconv.FormatInt(noStart.UnixMicro(), 10))
	var changed, staged int64
	flush := func() error {
		if staged == 0 {
			return nil
		}
		r, err := tx.ExecContext(ctx, merge)
		if err != nil {
			return fmt.Errorf("loading %s: %w", t, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("loading %s: %w", t, err)
		}
		changed += n
		staged = 0
		if _, err := tx.ExecContext(ctx, "DELETE FROM temp.load_staging"); err != nil {
			return fmt.Errorf("loading %s: %w", t, err)
		}
		return nil
	}
	rows := argsWriter{timeArg: d.timeArg}
	res.Read, err = streamRows(ctx, src, sqliteBatchRows, func(batch []recordio.Record) (err error) {
		rows.args = rows.args[:0]
		for _, rec := range batch {
			if err := writeRow(&rows, t, rec); err != nil {
				return fmt.Errorf("loading %s: %w", t, err)
			}
		}
		if len(batch) == sqliteBatchRows {
			_, err = full.ExecContext(ctx, rows.args...)
		} else {
			_, err = tx.ExecContext(ctx, stage(len(batch)), rows.args...)
		}
		if err != nil {
			return fmt.Errorf("loading %s: staging: %w", t, err)
		}
		if staged += int64(len(batch)); staged >= int64(sqliteMergeRows) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, err
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE temp.load_staging"); err != nil {
		return res, fmt.Errorf("loading %s: %w", t, err)
	}
	after, err := countRows(ctx, tx, t)
	if err != nil {
		return res, err
	}
	res.Inserted = after - before
	res.Updated = changed - res.Inserted
	return res, nil
}

// valuesList returns "VALUES (?, …), …" for rows rows of ncol columns.
func valuesList(rows, ncol int) string {
	row := "(" + strings.Repeat("?, ", ncol-1) + "?)"
	var b strings.Builder
	b.Grow(7 + rows*(len(row)+2))
	b.WriteString("VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

func countRows(ctx context.Context, q sqlx.QueryerContext, t features.Table) (int64, error) {
	var n int64
	if err := sqlx.GetContext(ctx, q, &n, "SELECT count(*) FROM "+string(t)); err != nil {
		return 0, fmt.Errorf("counting %s: %w", t, err)
	}
	return n, nil
}
