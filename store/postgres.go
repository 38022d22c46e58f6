package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

type postgresDialect struct{}

func (postgresDialect) name() string { return "postgres" }

func (postgresDialect) columnTypes() columnTypes {
	return columnTypes{ID: `TEXT COLLATE "C"`, Text: "TEXT", Int: "BIGINT", Float: "DOUBLE PRECISION", Bool: "BOOLEAN",
		False: "FALSE", Time: "TIMESTAMPTZ"}
}

func (postgresDialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// migrationLock is the pg_advisory_xact_lock key that serialises Migrate.
const migrationLock = 7_240_411_019

func (postgresDialect) lockMigrations(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock)
	return err
}

// postgresBatchRows is how many rows the decoder hands over at a time,
// and so how many rows one CopyData message carries.
const postgresBatchRows = 1024

// copyDataer is the part of lib/pq's COPY statement that accepts rows
// already encoded in COPY's text format. Encoding them here, a batch per
// call, skips database/sql's per-row argument conversion, which costs
// more than the encoding itself.
type copyDataer interface {
	CopyData(ctx context.Context, data string) (driver.Result, error)
}

// load streams src with COPY into a temporary table, then merges that
// into t. The temporary table has no indexes and writes no WAL, and is
// dropped at commit.
func (d postgresDialect) load(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, t features.Table, src Source) (LoadResult, error) {
	var res LoadResult
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE load_staging (LIKE "+string(t)+") ON COMMIT DROP"); err != nil {
		return res, fmt.Errorf("loading %s: creating staging table: %w", t, err)
	}
	start := time.Now()
	err := conn.Raw(func(dc any) error {
		// tx runs on this very connection, so the COPY is part of it.
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare COPY", dc)
		}
		stmt, err := prep.PrepareContext(ctx, "COPY load_staging ("+strings.Join(t.Columns(), ", ")+") FROM STDIN")
		if err != nil {
			return fmt.Errorf("starting COPY: %w", err)
		}
		defer stmt.Close()
		cd, ok := stmt.(copyDataer)
		if !ok {
			return fmt.Errorf("driver statement %T does not take COPY data", stmt)
		}
		ncol := len(t.Columns())
		var buf []byte
		res.Read, err = streamRows(ctx, t, src, d.timeArg, postgresBatchRows, func(args []any) error {
			var err error
			buf = buf[:0]
			for i, v := range args {
				switch {
				case i == 0:
				case i%ncol == 0:
					buf = append(buf, '\n')
				default:
					buf = append(buf, '\t')
				}
				if buf, err = appendCopyText(buf, v); err != nil {
					return err
				}
			}
			if _, err := cd.CopyData(ctx, string(buf)); err != nil {
				return fmt.Errorf("COPY: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// lib/pq ends a COPY with an Exec without arguments.
		if _, err := stmt.Exec(nil); err != nil {
			return fmt.Errorf("COPY: %w", err)
		}
		return nil
	})
	if err != nil {
		var re *recordio.Error
		if errors.As(err, &re) {
			return res, err // names file, line and column already
		}
		return res, fmt.Errorf("loading %s: %w", t, err)
	}
	slog.DebugContext(ctx, "copied into staging", "table", t, "rows", res.Read, "elapsed", time.Since(start))
	start = time.Now()
	res.Inserted, res.Updated, err = d.merge(ctx, tx, t)
	slog.DebugContext(ctx, "merged", "table", t, "elapsed", time.Since(start))
	return res, err
}

// appendCopyText appends v, a value appendRow produced, in the text format
// of COPY: \N for NULL, and backslash escapes for the characters that
// delimit fields and rows.
func appendCopyText(buf []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, '\\', 'N'), nil
	case string:
		for i := 0; i < len(v); i++ {
			switch c := v[i]; c {
			case '\\':
				buf = append(buf, '\\', '\\')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, c)
			}
		}
		return buf, nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case float64:
		switch {
		case math.IsInf(v, 1):
			return append(buf, "Infinity"...), nil
		case math.IsInf(v, -1):
			return append(buf, "-Infinity"...), nil
		}
		return strconv.AppendFloat(buf, v, 'g', -1, 64), nil
	case bool:
		if v {
			return append(buf, 't'), nil
		}
		return append(buf, 'f'), nil
	case time.Time:
		return v.UTC().AppendFormat(buf, "2006-01-02 15:04:05.999999Z07:00"), nil
	}
	return buf, fmt.Errorf("cannot COPY a %T", v)
}

// merge upserts the staging table into t and counts the rows inserted and
// updated. A file that holds one key twice makes the plain merge fail
// (ON CONFLICT cannot touch a row twice); only then does merge pay for
// de-duplicating, keeping each key's last row in file order, which is
// the staging table's physical order since it was only ever appended to.
func (postgresDialect) merge(ctx context.Context, tx *sqlx.Tx, t features.Table) (inserted, updated int64, err error) {
	cols := strings.Join(t.Columns(), ", ")
	keys := strings.Join(keyColumns(t), ", ")
	count := func(source string) error {
		q := "WITH merged AS (" + upsertSQL(t, source) + " RETURNING xmax = 0 AS inserted) " +
			"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged"
		return tx.QueryRowxContext(ctx, q).Scan(&inserted, &updated)
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT merge"); err != nil {
		return 0, 0, fmt.Errorf("loading %s: %w", t, err)
	}
	// Inserting in key order keeps the indexes' insertions local: in
	// random order each row dirties another page, and a load larger than
	// shared_buffers spends its time evicting and re-reading them. The
	// sort gets enough memory to stay off disk for loads of a few million
	// rows.
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '256MB'"); err != nil {
		return 0, 0, fmt.Errorf("loading %s: %w", t, err)
	}
	err = count("SELECT " + cols + " FROM load_staging ORDER BY " + keys)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "21000" { // cardinality_violation
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT merge"); err != nil {
			return 0, 0, fmt.Errorf("loading %s: %w", t, err)
		}
		err = count("SELECT DISTINCT ON (" + keys + ") " + cols + " FROM load_staging ORDER BY " + keys + ", ctid DESC")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("loading %s: merging: %w", t, err)
	}
	return inserted, updated, nil
}
