package store

import (
	"context"
	"database/sql"
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

// sqliteBatchRows is how many rows one INSERT carries. Larger batches
// amortise statement overhead until the bound-parameter count (13 columns
// × 256 rows for accounts) stays well under SQLite's limit of 32766.
const sqliteBatchRows = 256

// load upserts src's records with prepared multi-row INSERT … ON CONFLICT
// statements. SQLite reports rows inserted or updated together, so
// inserted rows are counted as the growth of the table.
func (d sqliteDialect) load(ctx context.Context, _ *sqlx.Conn, tx *sqlx.Tx, t features.Table, src load.Source) (load.Result, error) {
	var res load.Result
	before, err := countRows(ctx, tx, t)
	if err != nil {
		return res, err
	}
	ncol := len(storedColumns(t))
	full, err := tx.PrepareContext(ctx, upsertSQL(t, valuesList(sqliteBatchRows, ncol), strconv.FormatInt(noStart.UnixMicro(), 10)))
	if err != nil {
		return res, fmt.Errorf("loading %s: preparing: %w", t, err)
	}
	defer full.Close()
	var changed int64
	rows := argsWriter{timeArg: d.timeArg}
	res.Read, err = streamRows(ctx, src, sqliteBatchRows, func(batch []recordio.Record) (err error) {
		rows.args = rows.args[:0]
		for _, rec := range batch {
			if err := writeRow(&rows, t, rec); err != nil {
				return fmt.Errorf("loading %s: %w", t, err)
			}
		}
		var r sql.Result
		if len(batch) == sqliteBatchRows {
			r, err = full.ExecContext(ctx, rows.args...)
		} else {
			r, err = tx.ExecContext(ctx, upsertSQL(t, valuesList(len(batch), ncol), strconv.FormatInt(noStart.UnixMicro(), 10)), rows.args...)
		}
		if err == nil {
			var n int64
			n, err = r.RowsAffected()
			changed += n
		}
		if err != nil {
			return fmt.Errorf("loading %s: %w", t, err)
		}
		return nil
	})
	if err != nil {
		return res, err
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
