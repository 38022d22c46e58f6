package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/openchurn/churn/features"
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

// postgresBatchRows is how many rows the decoder hands over at a time.
const postgresBatchRows = 1024

// load streams src with COPY into a temporary table, then merges that
// into t. The temporary table has no indexes and writes no WAL, and is
// dropped at commit.
func (d postgresDialect) load(ctx context.Context, tx *sqlx.Tx, t features.Table, src Source) (LoadResult, error) {
	var res LoadResult
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE load_staging (LIKE "+string(t)+") ON COMMIT DROP"); err != nil {
		return res, fmt.Errorf("loading %s: creating staging table: %w", t, err)
	}
	copyIn, err := tx.PrepareContext(ctx, "COPY load_staging ("+strings.Join(t.Columns(), ", ")+") FROM STDIN")
	if err != nil {
		return res, fmt.Errorf("loading %s: starting COPY: %w", t, err)
	}
	defer copyIn.Close()
	ncol := len(t.Columns())
	start := time.Now()
	res.Read, err = streamRows(ctx, t, src, d.timeArg, postgresBatchRows, func(args []any) error {
		for i := 0; i < len(args); i += ncol {
			if _, err := copyIn.ExecContext(ctx, args[i:i+ncol]...); err != nil {
				return fmt.Errorf("loading %s: COPY: %w", t, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if _, err := copyIn.ExecContext(ctx); err != nil { // ends the COPY
		return res, fmt.Errorf("loading %s: COPY: %w", t, err)
	}
	slog.DebugContext(ctx, "copied into staging", "table", t, "rows", res.Read, "elapsed", time.Since(start))
	start = time.Now()
	res.Inserted, res.Updated, err = d.merge(ctx, tx, t)
	slog.DebugContext(ctx, "merged", "table", t, "elapsed", time.Since(start))
	return res, err
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
