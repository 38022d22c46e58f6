package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
)

// Load stores every record of src into table t with the default options:
// a key given twice in src refuses the load, orphans are loaded and
// counted. See LoadWith.
func (s *Store) Load(ctx context.Context, t features.Table, src load.Source) (load.Result, error) {
	return s.LoadWith(ctx, t, src, load.Options{})
}

// LoadWith stores every record of src into table t in one transaction: if
// src fails (a malformed row) or the database does, nothing from src is
// kept and the error is returned as it came, so a *recordio.Error still
// names file, line and column. Loading the same records twice leaves the
// store as it was; a record whose key is stored but whose fields differ
// replaces the stored one.
//
// Within one load a key may appear once: a repeat is refused, naming both
// places, unless opts.LastWins keeps the last. Usage events without an id
// that are identical are stored as one row whose count is their sum, so
// that repeats in an export keep their volume and re-sending the export
// still changes nothing. Either way src is read twice (it must be a
// Rewinder), the second time storing each key once, so that the counts
// are those of the rows stored.
func (s *Store) LoadWith(ctx context.Context, t features.Table, src load.Source, opts load.Options) (load.Result, error) {
	return s.loadWith(ctx, nil, t, src, opts)
}

// Loader stores the records of a load.Source: a *Store, or the loads of a
// DryRun.
type Loader interface {
	LoadWith(ctx context.Context, t features.Table, src load.Source, opts load.Options) (load.Result, error)
}

// session is the transaction that a dry run's loads share; each load runs
// in a savepoint of it.
type session struct {
	conn *sqlx.Conn
	tx   *sqlx.Tx
}

// loadWith is LoadWith in a transaction of its own (in == nil), or in a
// savepoint of in's.
func (s *Store) loadWith(ctx context.Context, in *session, t features.Table, src load.Source, opts load.Options) (load.Result, error) {
	if t.Columns() == nil {
		return load.Result{}, fmt.Errorf("loading: unknown table %q", t)
	}
	start := time.Now()
	checked := newCheckedSource(src, t, opts)
	res, err := s.loadOnce(ctx, in, t, checked)
	if err == nil && checked.needsReplay() {
		if err = checked.rewind(); err != nil {
			err = fmt.Errorf("loading %s: %w", t, err)
		} else {
			res, err = s.loadOnce(ctx, in, t, checked)
		}
	}
	if se := (*sourceError)(nil); errors.As(err, &se) {
		err = se.err
	}
	if err != nil {
		return load.Result{Table: t, Invalid: res.Invalid}, err
	}
	s.log.DebugContext(ctx, "loaded", "table", t, "read", res.Read, "inserted", res.Inserted,
		"updated", res.Updated, "merged", res.Merged, "superseded", res.Superseded,
		"orphans", res.Orphans.Rows, "elapsed", time.Since(start))
	return res, nil
}

// loadOnce runs one pass of LoadWith, in a transaction of its own that it
// commits, or in a savepoint of in's that it releases; but a pass that
// found repeated keys keeps nothing, and the caller runs a second.
func (s *Store) loadOnce(ctx context.Context, in *session, t features.Table, src *checkedSource) (load.Result, error) {
	failed := func(err error) (load.Result, error) { return load.Result{Table: t}, err }
	var (
		conn     *sqlx.Conn
		tx       *sqlx.Tx
		err      error
		released bool
	)
	if in != nil {
		conn, tx = in.conn, in.tx
		if _, err := tx.ExecContext(ctx, "SAVEPOINT load"); err != nil {
			return failed(fmt.Errorf("loading %s: %w", t, err))
		}
		// Undone unless released below; released, it leaves the load in tx.
		defer func() {
			if !released {
				undo := context.WithoutCancel(ctx)
				tx.ExecContext(undo, "ROLLBACK TO SAVEPOINT load")
				tx.ExecContext(undo, "RELEASE SAVEPOINT load")
			}
		}()
	} else {
		if conn, err = s.w.Connx(ctx); err != nil {
			return failed(fmt.Errorf("loading %s: %w", t, err))
		}
		defer conn.Close()
		if tx, err = conn.BeginTxx(ctx, nil); err != nil {
			return failed(fmt.Errorf("loading %s: %w", t, err))
		}
		defer tx.Rollback() // after Commit, a no-op
	}
	res, err := s.dialect.load(ctx, conn, tx, t, src)
	if err == nil && src.invalid.Rows > 0 {
		inv := src.invalid
		return load.Result{Table: t, Invalid: &inv}, invalidError(inv)
	}
	if err != nil {
		return failed(err)
	}
	if src.needsReplay() {
		return failed(nil)
	}
	if res.Orphans, err = src.orphans(ctx, tx, tx.Rebind); err != nil {
		return failed(err)
	}
	if res.StartsInferred, err = inferStarts(ctx, tx, s.dialect, t, time.Now()); err != nil {
		return failed(err)
	}
	if t == features.UsageEvents {
		if err := markUsageStale(ctx, tx, s.dialect, src.accounts); err != nil {
			return failed(err)
		}
	}
	if in != nil {
		_, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT load")
		released = err == nil
	} else {
		err = tx.Commit()
	}
	if err != nil {
		return failed(fmt.Errorf("loading %s: %w", t, err))
	}
	res.Table = t
	res.Merged, res.Superseded = src.merged, src.superseded
	// The dialect counted the records it stored; the source yielded more.
	res.Read += res.Merged + res.Superseded
	res.Unchanged = res.Read - res.Inserted - res.Updated - res.Merged - res.Superseded
	return res, nil
}

// loader is the dialect-specific half of Load: it stores src's records in
// tx and counts them. Read, Inserted and Updated must be set. conn is the
// connection tx runs on, for driver-level work such as COPY.
type loader interface {
	load(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, t features.Table, src load.Source) (load.Result, error)
}

// streamRows decodes src on its own goroutine, so that decoding overlaps
// the database's work, and calls store with each batch of up to batchRows
// records. store runs on the calling goroutine and must not keep the
// batch. It returns the number of records read, and the first error of
// src or store.
func streamRows(ctx context.Context, src load.Source, batchRows int, store func(batch []recordio.Record) error) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Two batches in flight and one being filled: enough to keep both
	// sides busy without holding more than a few batches in memory.
	const buffers = 3
	free := make(chan []recordio.Record, buffers)
	for range buffers {
		free <- make([]recordio.Record, 0, batchRows)
	}
	full := make(chan []recordio.Record, buffers)
	var (
		read      int64
		decodeErr error
	)
	go func() {
		defer close(full)
		decodeErr = decode(ctx, src, batchRows, free, full, &read)
	}()
	var storeErr error
	for batch := range full {
		if storeErr == nil {
			if storeErr = store(batch); storeErr != nil {
				cancel() // stop the decoder; keep draining until it has
			}
		}
		clear(batch) // let the records go
		free <- batch[:0]
	}
	// The decoder has returned (full is closed), so read and decodeErr
	// are safe to use.
	switch {
	case decodeErr != nil && decodeErr != context.Canceled:
		return read, &sourceError{decodeErr}
	case storeErr != nil:
		return read, storeErr
	case decodeErr != nil:
		return read, decodeErr
	}
	return read, nil
}

// sourceError is an error of a load's load.Source, which LoadWith returns as it
// came (a *recordio.Error names file, line and column already), whatever
// the dialect did with it on the way.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }

func (e *sourceError) Unwrap() error { return e.err }

// decode is the producing half of streamRows.
func decode(ctx context.Context, src load.Source, size int, free <-chan []recordio.Record, full chan<- []recordio.Record, read *int64) error {
	var batch []recordio.Record
	select {
	case batch = <-free:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		batch = append(batch, rec)
		*read++
		if len(batch) < size {
			continue
		}
		full <- batch
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case batch = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if len(batch) > 0 {
		full <- batch
	}
	return nil
}

// invalidError is the refusal of a load with invalid rows: the first, and
// how many more.
func invalidError(inv load.Invalid) error {
	first := inv.Kinds[0].Examples[0]
	if inv.Rows == 1 {
		return errors.New(first)
	}
	return fmt.Errorf("%s (and %d more invalid rows)", first, inv.Rows-1)
}
