package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// Source yields the records of one load, then io.EOF. Records must be
// valid: *recordio.Decoder validates each before returning it.
type Source interface {
	Next() (recordio.Record, error)
}

// LoadResult counts what a load did. Read = Inserted + Updated + Unchanged.
type LoadResult struct {
	Table     features.Table `json:"table"`
	Read      int64          `json:"read"`      // records the source yielded
	Inserted  int64          `json:"inserted"`  // new keys
	Updated   int64          `json:"updated"`   // stored keys whose fields changed
	Unchanged int64          `json:"unchanged"` // stored keys sent again as they were
}

// Load stores every record of src into table t in one transaction: if src
// fails (a malformed row) or the database does, nothing from src is kept
// and the error is returned as it came, so a *recordio.Error still names
// file, line and column. Loading the same records twice leaves the store as
// it was; a record whose key is stored but whose fields differ replaces
// the stored one.
func (s *Store) Load(ctx context.Context, t features.Table, src Source) (LoadResult, error) {
	if t.Columns() == nil {
		return LoadResult{}, fmt.Errorf("loading: unknown table %q", t)
	}
	start := time.Now()
	conn, err := s.w.Connx(ctx)
	if err != nil {
		return LoadResult{Table: t}, fmt.Errorf("loading %s: %w", t, err)
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return LoadResult{Table: t}, fmt.Errorf("loading %s: %w", t, err)
	}
	res, err := s.dialect.load(ctx, conn, tx, t, src)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		tx.Rollback()
		return LoadResult{Table: t}, err
	}
	res.Table = t
	res.Unchanged = res.Read - res.Inserted - res.Updated
	slog.DebugContext(ctx, "loaded", "table", t, "read", res.Read, "inserted", res.Inserted,
		"updated", res.Updated, "elapsed", time.Since(start))
	return res, nil
}

// loader is the dialect-specific half of Load: it stores src's records in
// tx and counts them. Read, Inserted and Updated must be set. conn is the
// connection tx runs on, for driver-level work such as COPY.
type loader interface {
	load(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx, t features.Table, src Source) (LoadResult, error)
}

// streamRows decodes src on its own goroutine, so that decoding overlaps
// the database's work, and calls store with each batch of up to batchRows
// rows: their values, in canonical column order, one row after another.
// store runs on the calling goroutine and must not keep args. It returns
// the number of rows read, and the first error of src or store.
func streamRows(ctx context.Context, t features.Table, src Source, tf timeFunc, batchRows int,
	store func(args []any) error) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ncol := len(t.Columns())
	// Two buffers in flight and one being filled: enough to keep both
	// sides busy without holding more than a few batches in memory.
	const buffers = 3
	free := make(chan []any, buffers)
	for range buffers {
		free <- make([]any, 0, batchRows*ncol)
	}
	full := make(chan []any, buffers)
	var (
		read      int64
		decodeErr error
	)
	go func() {
		defer close(full)
		decodeErr = decode(ctx, t, src, tf, batchRows*ncol, free, full, &read)
	}()
	var storeErr error
	for args := range full {
		if storeErr == nil {
			if storeErr = store(args); storeErr != nil {
				cancel() // stop the decoder; keep draining until it has
			}
		}
		free <- args[:0]
	}
	// The decoder has returned (full is closed), so read and decodeErr
	// are safe to use.
	switch {
	case decodeErr != nil && decodeErr != context.Canceled:
		return read, decodeErr
	case storeErr != nil:
		return read, storeErr
	case decodeErr != nil:
		return read, decodeErr
	}
	return read, nil
}

// decode is the producing half of streamRows.
func decode(ctx context.Context, t features.Table, src Source, tf timeFunc, size int,
	free <-chan []any, full chan<- []any, read *int64) error {
	var args []any
	select {
	case args = <-free:
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
		if args, err = appendRow(args, t, rec, tf); err != nil {
			return fmt.Errorf("loading %s: %w", t, err)
		}
		*read++
		if len(args) < size {
			continue
		}
		full <- args
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case args = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if len(args) > 0 {
		full <- args
	}
	return nil
}
