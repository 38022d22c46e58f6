package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
)

type postgresDialect struct {
	log *slog.Logger // the store's
}

func (postgresDialect) name() string { return "postgres" }

func (postgresDialect) columnTypes() columnTypes {
	return columnTypes{Dialect: "postgres", ID: `TEXT COLLATE "C"`, Text: "TEXT", Int: "BIGINT", Float: "DOUBLE PRECISION",
		Bool: "BOOLEAN", False: "FALSE", Time: "TIMESTAMPTZ"}
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

// load stores src in t. Rows travel by COPY in PostgreSQL's binary
// format, encoded here while src is decoded, which spares the server the
// parsing of text: for usage events that is about a third of a COPY's
// cost.
//
// Into a table that has never held rows (it has no pages: new, or
// truncated) load is a bulk load, as pg_restore does one: it drops the
// table's indexes, copies into the table itself and builds the indexes
// again, sorting once with parallel workers instead of inserting every
// row into every index. The table is locked against readers until the
// load commits; being empty, it had nothing to show them. Any other table
// gets its rows through a temporary table and merge, which leaves readers
// alone.
func (d postgresDialect) load(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, t features.Table, src load.Source) (load.Result, error) {
	var res load.Result
	bulk, err := lockIfNeverFilled(ctx, tx, t)
	if err != nil {
		return res, fmt.Errorf("loading %s: %w", t, err)
	}
	if bulk {
		return d.bulkLoad(ctx, conn, tx, t, src)
	}
	// A dry run's loads share one transaction: the last one's staging
	// table is still there.
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS load_staging"); err != nil {
		return res, fmt.Errorf("loading %s: %w", t, err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE load_staging (LIKE "+string(t)+" INCLUDING DEFAULTS) ON COMMIT DROP"); err != nil {
		return res, fmt.Errorf("loading %s: creating staging table: %w", t, err)
	}
	start := time.Now()
	if res.Read, err = d.copyIn(ctx, conn, t, "load_staging", src); err != nil {
		return res, err
	}
	d.log.DebugContext(ctx, "copied into staging", "table", t, "rows", res.Read, "elapsed", time.Since(start))
	start = time.Now()
	res.Inserted, res.Updated, err = d.merge(ctx, tx, t)
	d.log.DebugContext(ctx, "merged", "table", t, "elapsed", time.Since(start))
	return res, err
}

// lockIfNeverFilled reports whether t has no pages, and if so locks it
// for the rest of tx, so that it stays empty until the bulk load fills
// it. Only t's owner may drop its indexes, so a load by a role that may
// only write rows merges instead; and a table that other tables' foreign
// keys refer to is never bulk loaded, since its keys cannot be dropped.
// pg_relation_size releases its lock on t as it returns, so two loads that
// both find t empty do not deadlock upgrading their locks: the second
// waits for the first, then finds t filled.
func lockIfNeverFilled(ctx context.Context, tx *sqlx.Tx, t features.Table) (bool, error) {
	const q = `SELECT pg_relation_size($1::regclass) = 0
		AND pg_has_role((SELECT relowner FROM pg_class WHERE oid = $1::regclass), 'USAGE')
		AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = $1::regclass)`
	var empty bool
	if err := tx.GetContext(ctx, &empty, q, string(t)); err != nil || !empty {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE "+string(t)+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return false, err
	}
	// Another load may have filled it while we waited for the lock.
	err := tx.GetContext(ctx, &empty, q, string(t))
	return empty, err
}

// bulkLoad is load's path into a table that has never held rows; t is
// locked. Load has made sure that src gives each key once.
func (d postgresDialect) bulkLoad(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, t features.Table, src load.Source) (load.Result, error) {
	var res load.Result
	rebuild, err := dropIndexes(ctx, tx, t)
	if err != nil {
		return res, fmt.Errorf("loading %s: %w", t, err)
	}
	start := time.Now()
	if res.Read, err = d.copyIn(ctx, conn, t, string(t), src); err != nil {
		return res, err
	}
	d.log.DebugContext(ctx, "copied", "table", t, "rows", res.Read, "elapsed", time.Since(start))
	start = time.Now()
	// The indexes are built with one sort each; give it enough memory to
	// stay off disk for loads of a few million rows.
	if _, err := tx.ExecContext(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return res, fmt.Errorf("loading %s: %w", t, err)
	}
	if err := execAll(ctx, tx, rebuild); err != nil {
		return res, fmt.Errorf("loading %s: building indexes: %w", t, err)
	}
	d.log.DebugContext(ctx, "indexed", "table", t, "elapsed", time.Since(start))
	res.Inserted = res.Read
	return res, nil
}

// dropIndexes drops t's indexes, those behind its key, unique and
// exclusion constraints included, and returns the statements that build them again
// as they were.
func dropIndexes(ctx context.Context, tx *sqlx.Tx, t features.Table) (rebuild []string, err error) {
	var defs []struct {
		Name       string `db:"name"`
		Definition string `db:"definition"`
		Constraint bool   `db:"is_constraint"`
	}
	err = tx.SelectContext(ctx, &defs, `
		SELECT conname AS name, pg_get_constraintdef(oid) AS definition, true AS is_constraint
		FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'x')
		UNION ALL
		SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), false
		FROM pg_index i WHERE i.indrelid = $1::regclass
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)`,
		string(t))
	if err != nil {
		return nil, fmt.Errorf("reading index definitions: %w", err)
	}
	table := pgx.Identifier{string(t)}.Sanitize()
	var drop []string
	for _, d := range defs {
		if d.Constraint {
			name := pgx.Identifier{d.Name}.Sanitize()
			drop = append(drop, "ALTER TABLE "+table+" DROP CONSTRAINT "+name)
			rebuild = append(rebuild, "ALTER TABLE "+table+" ADD CONSTRAINT "+name+" "+d.Definition)
		} else {
			drop = append(drop, "DROP INDEX "+d.Name) // regclass text: quoted and qualified as needed
			rebuild = append(rebuild, d.Definition)
		}
	}
	if err := execAll(ctx, tx, drop); err != nil {
		return nil, fmt.Errorf("dropping indexes: %w", err)
	}
	return rebuild, nil
}

// execAll runs stmts in order and stops at the first error.
func execAll(ctx context.Context, tx *sqlx.Tx, stmts []string) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// copyIn streams src's records into target, a table with t's columns, with
// COPY … (FORMAT binary) on conn, the connection the load's transaction
// runs on. A *recordio.Error from src is returned as it came.
func (d postgresDialect) copyIn(ctx context.Context, conn *sqlx.Conn, t features.Table, target string, src load.Source) (int64, error) {
	var (
		read               int64
		streamErr, copyErr error // of our side, and of the server's
	)
	err := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection %T cannot COPY", dc)
		}
		pr, pw := io.Pipe()
		copied := make(chan error, 1)
		go func() {
			_, err := sc.Conn().PgConn().CopyFrom(ctx, pr,
				"COPY "+target+" ("+strings.Join(storedColumns(t), ", ")+") FROM STDIN (FORMAT binary)")
			// A server that stopped early must not leave the writer blocked.
			pr.CloseWithError(err)
			copied <- err
		}()
		rows := copyBinaryWriter{ncol: len(storedColumns(t)), buf: append([]byte(nil), copyBinaryHeader...)}
		read, streamErr = streamRows(ctx, src, postgresBatchRows, func(batch []recordio.Record) error {
			for _, rec := range batch {
				rows.startRow()
				if err := writeRow(&rows, t, rec); err != nil {
					return err
				}
			}
			_, err := pw.Write(rows.buf)
			rows.buf = rows.buf[:0]
			return err
		})
		if streamErr == nil {
			_, streamErr = pw.Write(binary.BigEndian.AppendUint16(rows.buf, 0xffff)) // the trailer
		}
		pw.CloseWithError(streamErr) // nil ends the COPY; an error fails it
		copyErr = <-copied
		return nil
	})
	var se *sourceError
	switch {
	case errors.As(streamErr, &se):
		return read, streamErr // LoadWith returns the source's error as it came
	case err != nil:
		return read, fmt.Errorf("loading %s: %w", t, err)
	case copyErr != nil: // the server's reason, not the closed pipe it left us
		return read, fmt.Errorf("loading %s: COPY: %w", t, copyErr)
	case streamErr != nil:
		return read, fmt.Errorf("loading %s: %w", t, streamErr)
	}
	return read, nil
}

// copyBinaryHeader opens a COPY stream in binary format: the signature,
// no flags and no header extension.
var copyBinaryHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// postgresEpochMicros is 2000-01-01 UTC, the zero of PostgreSQL's binary
// timestamps, in microseconds since the Unix epoch.
const postgresEpochMicros = 946_684_800_000_000

// copyBinaryWriter encodes rows in the binary format of COPY: per row the
// field count, then per field its length (-1 for NULL) and its bytes,
// integers and floats big endian, times in microseconds since 2000.
type copyBinaryWriter struct {
	ncol int
	buf  []byte
}

func (w *copyBinaryWriter) startRow() { w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(w.ncol)) }

func (w *copyBinaryWriter) text(s string) {
	w.buf = append(binary.BigEndian.AppendUint32(w.buf, uint32(len(s))), s...)
}

func (w *copyBinaryWriter) int(n int64) { w.int8(uint64(n)) }

func (w *copyBinaryWriter) float(f float64) { w.int8(math.Float64bits(f)) }

func (w *copyBinaryWriter) bool(b bool) {
	v := byte(0)
	if b {
		v = 1
	}
	w.buf = append(binary.BigEndian.AppendUint32(w.buf, 1), v)
}

func (w *copyBinaryWriter) time(t time.Time) {
	if t.IsZero() {
		w.buf = binary.BigEndian.AppendUint32(w.buf, math.MaxUint32) // -1: NULL
		return
	}
	w.int8(uint64(t.UnixMicro() - postgresEpochMicros))
}

// int8 appends an 8-byte field.
func (w *copyBinaryWriter) int8(v uint64) {
	w.buf = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(w.buf, 8), v)
}

// merge stores the staging table's rows into t and counts the rows
// inserted and updated. Most loads bring only new keys (the next day's
// events), so merge first tries a plain INSERT: without ON CONFLICT's
// speculative insertion it takes half the time. A key that t holds makes
// it fail; then merge upserts. Load has made sure that the staging table
// holds each key once, as ON CONFLICT requires.
func (postgresDialect) merge(ctx context.Context, tx *sqlx.Tx, t features.Table) (inserted, updated int64, err error) {
	cols := strings.Join(storedColumns(t), ", ")
	keys := strings.Join(keyColumns(t), ", ")
	// Inserting in key order keeps the index insertions local: in random
	// order each row dirties another page, and a load larger than
	// shared_buffers spends its time evicting and re-reading them. The
	// sort gets enough memory to stay off disk for loads of a few million
	// rows.
	if err := execAll(ctx, tx, []string{"SET LOCAL work_mem = '256MB'", "SAVEPOINT merge"}); err != nil {
		return 0, 0, fmt.Errorf("loading %s: %w", t, err)
	}
	r, err := tx.ExecContext(ctx, "INSERT INTO "+string(t)+" ("+cols+") SELECT "+cols+" FROM load_staging ORDER BY "+keys)
	if err == nil {
		inserted, err = r.RowsAffected()
		return inserted, 0, err
	}
	if !isUniqueViolation(err) {
		return 0, 0, fmt.Errorf("loading %s: inserting: %w", t, err)
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT merge"); err != nil {
		return 0, 0, fmt.Errorf("loading %s: %w", t, err)
	}
	q := "WITH merged AS (" + upsertSQL(t, "SELECT "+cols+" FROM load_staging ORDER BY "+keys, "'"+noStart.Format(time.RFC3339)+"'::timestamptz") + " RETURNING xmax = 0 AS inserted) " +
		"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged"
	err = tx.QueryRowxContext(ctx, q).Scan(&inserted, &updated)
	if err != nil {
		return 0, 0, fmt.Errorf("loading %s: merging: %w", t, err)
	}
	return inserted, updated, nil
}
