package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
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

// loadLock is the first pg_advisory_xact_lock key of the lock a chunked
// load holds on its table, the table's hashtext the second (storeChunks).
const loadLock = 0x6c6f6164 // "load"

// migrationLock is the pg_advisory_xact_lock key that serialises Migrate.
const migrationLock = 7_240_411_019

func (postgresDialect) lockMigrations(ctx context.Context, tx *sqlx.Tx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock)
	return err
}

// postgresBatchRows is how many rows the decoder hands over at a time.
const postgresBatchRows = 1024

// postgresChunkRows is how many rows a load into a filled table sorts
// and sends at a time: about 100 bytes each for usage events, held twice,
// in the chunk being filled and in the one being stored (about 100 MB).
var postgresChunkRows = 1 << 18

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
// gets its rows in chunks (see storeChunks), which leaves readers alone.
func (d postgresDialect) load(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, t features.Table, src load.Source) (load.Result, error) {
	bulk, err := lockIfNeverFilled(ctx, tx, t)
	if err != nil {
		return load.Result{}, fmt.Errorf("loading %s: %w", t, err)
	}
	if bulk {
		return d.bulkLoad(ctx, conn, tx, t, src)
	}
	return d.storeChunks(ctx, conn, tx, t, src)
}

// storeChunks is load's path into a table that holds rows. It encodes
// postgresChunkRows rows at a time in memory, sorts them by
// hashtext(account_id) and copies them straight into t, in a savepoint:
// most loads bring only new keys (the next day's events), and a COPY
// inserts its rows in batches, where INSERT … SELECT inserts them one by
// one. Sorted, the rows of an account go to one place in each index one
// after the other; in the source's order (usage events come by time, not
// by account) each row dirties another index page, and a load larger
// than shared_buffers spends its time evicting and re-reading them (1M
// events into a table of 1M, PostgreSQL's CPU: 14.2 s in the file's
// order, 4.0 s sorted). Sorting here spares the server the sort, and the
// COPY into a temporary table that it needs. The hash, that of the shard
// buckets, groups each account's rows and is the order of the shard
// index; it sorts with one integer comparison where the key takes text.
//
// A key that t holds makes the COPY fail: the chunk's savepoint is
// rolled back, and that chunk and every later one of the load go through
// a temporary table and merge, which updates stored keys whose fields
// differ. Load has made sure that src gives each key once.
//
// Loads into one table take their turns (a transaction-scoped advisory
// lock per table): two loads of the same keys in different orders, each
// of several chunks, would lock rows chunk by chunk and could deadlock,
// and PostgreSQL would fail one of them.
func (d postgresDialect) storeChunks(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, t features.Table, src load.Source) (load.Result, error) {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", loadLock, string(t)); err != nil {
		return load.Result{}, fmt.Errorf("loading %s: waiting for other loads: %w", t, err)
	}
	var (
		res     load.Result
		merging bool // a chunk met stored keys: the rest are merged
		staged  bool // the staging table exists
	)
	cols := strings.Join(storedColumns(t), ", ")
	store := func(chunk *sortedChunk) error {
		if chunk.len() == 0 {
			return nil
		}
		start := time.Now()
		data := chunk.sorted()
		if !merging {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT load_chunk"); err != nil {
				return fmt.Errorf("loading %s: %w", t, err)
			}
			err := copyFrom(ctx, conn, "COPY "+string(t)+" ("+cols+") FROM STDIN (FORMAT binary)", data)
			if err == nil {
				if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT load_chunk"); err != nil {
					return fmt.Errorf("loading %s: %w", t, err)
				}
				res.Inserted += int64(chunk.len())
				d.log.DebugContext(ctx, "copied", "table", t, "rows", chunk.len(), "elapsed", time.Since(start))
				chunk.reset()
				return nil
			}
			if !isUniqueViolation(err) {
				return fmt.Errorf("loading %s: COPY: %w", t, err)
			}
			if err := execAll(ctx, tx, []string{"ROLLBACK TO SAVEPOINT load_chunk", "RELEASE SAVEPOINT load_chunk"}); err != nil {
				return fmt.Errorf("loading %s: %w", t, err)
			}
			merging = true
		}
		// A dry run's loads share one transaction: the last one's
		// staging table is still there.
		prepare := []string{"TRUNCATE load_staging"}
		if !staged {
			prepare = []string{"DROP TABLE IF EXISTS load_staging",
				"CREATE TEMP TABLE load_staging (LIKE " + string(t) + " INCLUDING DEFAULTS) ON COMMIT DROP"}
		}
		if err := execAll(ctx, tx, prepare); err != nil {
			return fmt.Errorf("loading %s: staging: %w", t, err)
		}
		staged = true
		if err := copyFrom(ctx, conn, "COPY load_staging ("+cols+") FROM STDIN (FORMAT binary)", data); err != nil {
			return fmt.Errorf("loading %s: COPY: %w", t, err)
		}
		inserted, updated, err := d.merge(ctx, tx, t)
		if err != nil {
			return err
		}
		res.Inserted += inserted
		res.Updated += updated
		d.log.DebugContext(ctx, "merged", "table", t, "rows", chunk.len(), "elapsed", time.Since(start))
		chunk.reset()
		return nil
	}
	// One chunk is filled while the one before is stored on a goroutine
	// of its own, so that decoding overlaps the sort and the server's
	// work. Chunks are stored one at a time, in order.
	filling, spare := newSortedChunk(t), newSortedChunk(t)
	var stored chan error // the chunk being stored; nil if none
	wait := func() error {
		if stored == nil {
			return nil
		}
		err := <-stored
		stored = nil
		return err
	}
	read, err := streamRows(ctx, src, postgresBatchRows, func(batch []recordio.Record) error {
		for _, rec := range batch {
			if err := filling.add(rec); err != nil {
				return fmt.Errorf("loading %s: %w", t, err)
			}
			if filling.len() == postgresChunkRows {
				if err := wait(); err != nil {
					return err
				}
				filling, spare = spare, filling
				stored = make(chan error, 1)
				go func(c *sortedChunk) { stored <- store(c) }(spare)
			}
		}
		return nil
	})
	if werr := wait(); err == nil {
		err = werr
	}
	if err == nil {
		err = store(filling)
	}
	res.Read = read
	return res, err
}

// sortedChunk holds rows of a load encoded for COPY, to be sent sorted by
// hashtext(account_id), then by a hash of their whole key; rows of a
// table without accounts keep their order. The order of two keys is the
// same in every load, as it was in key order, so that loads of the same
// keys side by side take their row locks in one order and do not
// deadlock (within a chunk).
type sortedChunk struct {
	table   features.Table
	account int   // position of account_id among the stored columns, or -1
	key     []int // positions of the key columns
	rows    copyBinaryWriter
	index   []chunkRow
	out     []byte
	scratch []byte
}

// chunkRow is a row of a sortedChunk: its sort keys and its bytes in
// rows.buf.
type chunkRow struct {
	account    int32  // hashtext(account_id)
	key        uint32 // of the key's values
	start, end int
}

func newSortedChunk(t features.Table) *sortedChunk {
	cols := storedColumns(t)
	c := &sortedChunk{table: t, account: slices.Index(cols, "account_id"), rows: copyBinaryWriter{ncol: len(cols)}}
	for _, k := range keyColumns(t) {
		c.key = append(c.key, slices.Index(cols, k))
	}
	return c
}

func (c *sortedChunk) len() int { return len(c.index) }

// add encodes rec at the end of the chunk.
func (c *sortedChunk) add(rec recordio.Record) error {
	r := chunkRow{start: len(c.rows.buf)}
	c.rows.startRow()
	if err := writeRow(&c.rows, c.table, rec); err != nil {
		return err
	}
	r.end = len(c.rows.buf)
	if c.account >= 0 {
		var buf [16]any
		fields, _ := fieldsOf(buf[:0], rec)
		r.account = int32(hashBytes([]byte(*fields[c.account].(*string))))
		c.scratch = c.scratch[:0]
		for _, i := range c.key {
			switch f := fields[i].(type) {
			case *string:
				c.scratch = append(c.scratch, *f...)
			case *time.Time:
				c.scratch = strconv.AppendInt(c.scratch, f.UnixMicro(), 10) // as stored
			}
			c.scratch = append(c.scratch, 0)
		}
		r.key = hashBytes(c.scratch)
	}
	c.index = append(c.index, r)
	return nil
}

// sorted returns the chunk's COPY stream, header and trailer included,
// its rows in order of their keys. It stays valid until reset.
func (c *sortedChunk) sorted() []byte {
	if c.account >= 0 {
		slices.SortFunc(c.index, func(a, b chunkRow) int {
			return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.key, b.key), cmp.Compare(a.start, b.start))
		})
	}
	c.out = append(c.out[:0], copyBinaryHeader...)
	for _, r := range c.index {
		c.out = append(c.out, c.rows.buf[r.start:r.end]...)
	}
	c.out = binary.BigEndian.AppendUint16(c.out, 0xffff) // the trailer
	return c.out
}

// reset empties the chunk, keeping its memory.
func (c *sortedChunk) reset() {
	c.rows.buf = c.rows.buf[:0]
	c.index = c.index[:0]
}

// copyFrom runs sql, a COPY … FROM STDIN, with data on conn, the
// connection the load's transaction runs on.
func copyFrom(ctx context.Context, conn *sqlx.Conn, sql string, data []byte) error {
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection %T cannot COPY", dc)
		}
		_, err := sc.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data), sql)
		return err
	})
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

// merge upserts the staging table's rows into t and counts the rows
// inserted and updated. Load has made sure that the staging table holds
// each key once, as ON CONFLICT requires.
func (postgresDialect) merge(ctx context.Context, tx *sqlx.Tx, t features.Table) (inserted, updated int64, err error) {
	cols := strings.Join(storedColumns(t), ", ")
	// In key order, for the reasons of storeChunks. The sort gets enough
	// memory to stay off disk.
	order := strings.Join(keyColumns(t), ", ")
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '256MB'"); err != nil {
		return 0, 0, fmt.Errorf("loading %s: %w", t, err)
	}
	q := "WITH merged AS (" + upsertSQL(t, "SELECT "+cols+" FROM load_staging ORDER BY "+order, "'"+noStart.Format(time.RFC3339)+"'::timestamptz") + " RETURNING xmax = 0 AS inserted) " +
		"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged"
	err = tx.QueryRowxContext(ctx, q).Scan(&inserted, &updated)
	if err != nil {
		return 0, 0, fmt.Errorf("loading %s: merging: %w", t, err)
	}
	return inserted, updated, nil
}
