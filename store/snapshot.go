package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/training/trainer"
)

// reader runs the queries of a read: a pool (*sqlx.DB) or the
// transaction of a dry run (*sqlx.Tx).
type reader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	Rebind(query string) string
}

// Snapshot reads the data inside a transaction: what a dry run's loads
// would leave in the store. It is a dataset.Source.
type Snapshot struct {
	q reader
}

// snapshotAccounts bounds the accounts whose rows a Snapshot holds in
// memory at once.
var snapshotAccounts = 500

// Extent is Store.Extent of the snapshot's data.
func (v Snapshot) Extent(ctx context.Context) (trainer.Extent, error) {
	return extent(ctx, v.q)
}

// Histories calls fn with each account's history, in account_id order,
// like Store.Histories. A transaction serves one query at a time on
// PostgreSQL, so the tables cannot be streamed side by side: accounts are
// read in chunks of at most snapshotAccounts per table, each table's rows
// of a chunk read whole before the next table's.
func (v Snapshot) Histories(ctx context.Context, fn func(h *features.History) error) error {
	var (
		after string
		first = true
	)
	for {
		hi, last, err := v.chunkEnd(ctx, after, first)
		if err != nil {
			return err
		}
		byAccount := map[string]*features.History{}
		for _, t := range features.Tables {
			if err := v.readChunk(ctx, t, after, hi, first, last, byAccount); err != nil {
				return err
			}
		}
		ids := make([]string, 0, len(byAccount))
		for id := range byAccount {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			h := byAccount[id]
			h.SortByTime()
			if err := fn(h); err != nil {
				return err
			}
		}
		if last {
			return nil
		}
		after, first = hi, false
	}
}

// chunkEnd returns the last account id of the chunk after after (from the
// start when first): the smallest, over the tables, of the
// snapshotAccounts-th account id each holds past after, so that no table
// contributes more accounts to the chunk. last reports that no table
// holds that many, so the chunk runs to the end.
func (v Snapshot) chunkEnd(ctx context.Context, after string, first bool) (hi string, last bool, err error) {
	last = true
	for _, t := range features.Tables {
		where, args := "", []any{snapshotAccounts - 1}
		if !first {
			where, args = " WHERE account_id > ?", []any{after, snapshotAccounts - 1}
		}
		q := "SELECT DISTINCT account_id FROM " + string(t) + where + " ORDER BY account_id LIMIT 1 OFFSET ?"
		var id string
		switch err := v.q.QueryRowContext(ctx, v.q.Rebind(q), args...).Scan(&id); {
		case err == sql.ErrNoRows:
			continue // fewer accounts than a chunk
		case err != nil:
			return "", false, fmt.Errorf("reading %s: %w", t, err)
		}
		if last || id < hi {
			hi, last = id, false
		}
	}
	return hi, last, nil
}

// readChunk adds to byAccount the rows of t whose account_id is after
// after (unless first) and at most hi (unless last).
func (v Snapshot) readChunk(ctx context.Context, t features.Table, after, hi string, first, last bool, byAccount map[string]*features.History) error {
	var (
		where []string
		args  []any
	)
	if !first {
		where, args = append(where, "account_id > ?"), append(args, after)
	}
	if !last {
		where, args = append(where, "account_id <= ?"), append(args, hi)
	}
	q := "SELECT " + strings.Join(storedColumns(t), ", ") + " FROM " + string(t)
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return eachRow(ctx, v.q, t, v.q.Rebind(q+" ORDER BY "+strings.Join(keyColumns(t), ", ")), args, func(rec recordio.Record) error {
		id := accountOf(rec)
		h := byAccount[id]
		if h == nil {
			h = &features.History{}
			h.Reset(id)
			byAccount[id] = h
		}
		return h.Add(rec)
	})
}
