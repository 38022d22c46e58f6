package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// pgBatchRows is how many decoded rows a pgRows hands over at a time, and
// pgBatches how many batches one holds: one being read, one being
// filled, one waiting.
const (
	pgBatchRows = 256
	pgBatches   = 3
)

// sweepRows runs q on a connection of its own and streams its rows in
// PostgreSQL's binary format, which the decoder turns into records with
// no conversion through database/sql's values: that conversion was most
// of a sweep's client time. The rows are decoded on a goroutine of their
// own, so that decoding one table overlaps the merge of the others.
func (postgresDialect) sweepRows(ctx context.Context, db *sqlx.DB, t features.Table, q query) (rowStream, error) {
	params, err := textParams(q.args)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &pgRows{t: t, batches: make(chan *pgBatch, pgBatches-1), free: make(chan *pgBatch, pgBatches),
		cancel: cancel, done: make(chan struct{})}
	for range pgBatches {
		b := &pgBatch{recs: make([]recordio.Record, pgBatchRows)}
		if t != features.Accounts { // an *Account is kept by the history it joins: one each
			for i := range b.recs {
				b.recs[i] = newRecord(t)
			}
		}
		r.free <- b
	}
	go func() {
		defer close(r.done)
		defer close(r.batches)
		err := conn.Raw(func(dc any) error {
			sc, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("driver connection %T is not pgx's", dc)
			}
			return r.stream(ctx, sc.Conn().PgConn(), db.Rebind(q.sql), params, q)
		})
		// A connection left in a transaction (by an error or a
		// cancellation) is discarded by the pool, not reused.
		if cerr := conn.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			r.err = fmt.Errorf("reading %s: %w", t, err)
		}
	}()
	return r, nil
}

// pgRows is the rowStream of a query streamed by sweepRows.
type pgRows struct {
	t       features.Table
	batches chan *pgBatch // filled, closed after the last (r.err is then set)
	free    chan *pgBatch // for the goroutine to fill
	cur     *pgBatch      // being read
	i       int           // the next record of cur
	err     error         // the goroutine's, read after batches is closed
	cancel  context.CancelFunc
	done    chan struct{} // closed when the goroutine has returned
}

// pgBatch is a batch of decoded rows: recs[:n].
type pgBatch struct {
	recs []recordio.Record
	n    int
}

func (r *pgRows) next() (recordio.Record, error) {
	for r.cur == nil || r.i == r.cur.n {
		if r.cur != nil {
			r.free <- r.cur // never blocks: free holds every batch
			r.cur = nil
		}
		b, ok := <-r.batches
		if !ok {
			return nil, r.err
		}
		r.cur, r.i = b, 0
	}
	r.i++
	return r.cur.recs[r.i-1], nil
}

func (r *pgRows) close() {
	r.cancel()
	<-r.done
}

// stream runs the query on pg and sends its rows, decoded, in batches.
// A query of many accounts runs in a read-only transaction of its own,
// without JIT compilation (whose cost, at a sweep's row estimates, is
// paid for every query) and, when its order is its index's, with sorts
// forbidden so that the planner takes the index.
func (r *pgRows) stream(ctx context.Context, pg *pgconn.PgConn, sql string, params [][]byte, q query) error {
	if q.many {
		if err := pg.Exec(ctx, "BEGIN READ ONLY; "+sweepSettings(q)).Close(); err != nil {
			return err
		}
	}
	rr := pg.ExecParams(ctx, sql, params, nil, nil, []int16{pgtype.BinaryFormatCode})
	dec, err := newPgDecoder(r.t, rr.FieldDescriptions())
	if err != nil {
		if _, qerr := rr.Close(); qerr != nil {
			return qerr // the query failed: it has no columns
		}
		return err
	}
	var b *pgBatch
	for rr.NextRow() {
		if b == nil {
			select {
			case b = <-r.free:
				b.n = 0
			case <-ctx.Done():
				rr.Close()
				return ctx.Err()
			}
		}
		rec := b.recs[b.n]
		if rec == nil || r.t == features.Accounts {
			rec = newRecord(r.t)
			b.recs[b.n] = rec
		}
		if err := dec.decode(rr.Values(), rec); err != nil {
			rr.Close()
			return err
		}
		if b.n++; b.n == len(b.recs) {
			if err := r.send(ctx, b); err != nil {
				rr.Close()
				return err
			}
			b = nil
		}
	}
	if _, err := rr.Close(); err != nil {
		return err
	}
	if q.many {
		if err := pg.Exec(ctx, "COMMIT").Close(); err != nil {
			return err
		}
	}
	if b != nil {
		return r.send(ctx, b)
	}
	return nil
}

func (r *pgRows) send(ctx context.Context, b *pgBatch) error {
	select {
	case r.batches <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sweepSettings returns the statements that set up the transaction of a
// query of many accounts.
func sweepSettings(q query) string {
	if q.indexOrder {
		return "SET LOCAL jit = off; SET LOCAL enable_sort = off"
	}
	return "SET LOCAL jit = off"
}

// textParams encodes a sweep query's arguments, strings and ints, as
// PostgreSQL's text format.
func textParams(args []any) ([][]byte, error) {
	out := make([][]byte, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case string:
			out[i] = []byte(a)
		case int:
			out[i] = strconv.AppendInt(nil, int64(a), 10)
		default:
			return nil, fmt.Errorf("query argument %d is a %T, not a string or int", i+1, a)
		}
	}
	return out, nil
}

// pgDecoder decodes rows of one table, in the binary format, into
// records. Within one account a text value other than the key is held
// once, however many rows repeat it (a user id, a feature name), which
// spares an allocation for most of them; account_id is held once for
// all its rows.
type pgDecoder struct {
	t       features.Table
	names   []string
	account int // the position of account_id, and its current value
	id      string
	key     int               // the position of the key, which no row repeats
	seen    map[string]string // the text values of the current account
	fields  []any
}

// pgType returns the type that the column of a record field must have.
func pgType(field any) uint32 {
	switch field.(type) {
	case *string, *map[string]string:
		return pgtype.TextOID
	case *int:
		return pgtype.Int8OID
	case *float64:
		return pgtype.Float8OID
	case *bool:
		return pgtype.BoolOID
	case *time.Time:
		return pgtype.TimestamptzOID
	}
	return 0
}

// newPgDecoder returns a decoder of rows of t, whose columns are fds; it
// refuses columns that are not t's stored columns of the types the
// schema gives them.
func newPgDecoder(t features.Table, fds []pgconn.FieldDescription) (*pgDecoder, error) {
	names := storedColumns(t)
	d := &pgDecoder{t: t, names: names, account: slices.Index(names, "account_id"), key: slices.Index(names, t.Key()),
		seen: map[string]string{}}
	fields, _ := fieldsOf(nil, newRecord(t))
	if len(fds) != len(fields) {
		return nil, fmt.Errorf("the query returned %d columns, want %d", len(fds), len(fields))
	}
	for i, f := range fields {
		if fds[i].Name != names[i] || fds[i].DataTypeOID != pgType(f) {
			return nil, fmt.Errorf("column %d is %s of type %d, want %s of type %d", i+1, fds[i].Name, fds[i].DataTypeOID, names[i], pgType(f))
		}
	}
	return d, nil
}

// decode decodes one row's values into rec, a record of d's table.
func (d *pgDecoder) decode(vals [][]byte, rec recordio.Record) error {
	d.fields, _ = fieldsOf(d.fields[:0], rec)
	for i, f := range d.fields {
		v := vals[i]
		if v == nil {
			if t, ok := f.(*time.Time); ok {
				*t = time.Time{}
				continue
			}
			return fmt.Errorf("column %s is NULL", d.names[i])
		}
		var err error
		switch f := f.(type) {
		case *string:
			*f = d.text(i, v)
		case *int:
			var n int64
			n, err = int8Value(v)
			*f = int(n)
		case *float64:
			var n int64
			n, err = int8Value(v)
			*f = math.Float64frombits(uint64(n))
		case *bool:
			if len(v) != 1 {
				err = fmt.Errorf("a boolean of %d bytes, want 1", len(v))
				break
			}
			*f = v[0] != 0
		case *time.Time:
			var us int64
			if us, err = int8Value(v); err == nil {
				if us == math.MaxInt64 || us == math.MinInt64 {
					err = errors.New("the time is infinite")
				}
				*f = time.UnixMicro(us + postgresEpochMicros).UTC()
			}
		case *map[string]string:
			err = dbAttributes{f}.Scan(v)
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", d.names[i], err)
		}
	}
	return nil
}

// text returns the value v of text column i as a string.
func (d *pgDecoder) text(i int, v []byte) string {
	switch i {
	case d.account:
		if string(v) != d.id {
			d.id = string(v)
			clear(d.seen)
		}
		return d.id
	case d.key:
		return string(v)
	}
	if s, ok := d.seen[string(v)]; ok {
		return s
	}
	s := string(v)
	d.seen[s] = s
	return s
}

// int8Value decodes an 8-byte integer (or the bits of a float8).
func int8Value(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("a value of %d bytes, want 8", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}
