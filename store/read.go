package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// Histories calls fn with the history of every account in shard, in
// account_id byte order, until fn returns an error, which Histories then
// returns. An account appears when any table mentions it. fn must not keep
// h or its slices after it returns: they are reused for the next account,
// which keeps memory bounded by the largest history rather than the store.
//
// Histories reads each table with one query ordered by account_id and
// merges them as they stream: never a query per account. On PostgreSQL
// the order is (account_id, time, key), served by the time index, and the
// rows come in the binary format, each table's decoded on a goroutine of
// its own, as fn consumes them, so the server streams the result under
// TCP flow control rather than the client holding it. A sweep of whole
// tables or of account-id ranges runs in a read-only transaction that
// forbids sorting, so that the index's order is used whatever the
// planner's statistics say (without them it plans a large table as a
// sequential scan and a sort of every row). On SQLite the order is the
// table's key, its storage order, and each account's records are sorted
// by time in memory. The six queries do not share a snapshot, so a load
// that commits during the sweep may show in some tables only.
//
// A shard's queries read only its own rows: each finds the shard's
// accounts in one range of the table's (shard_bucket, account_id) index
// and reads their rows by key (see Shard and sweepQuery). Histories logs
// the accounts and the rows of each table it read, so that a scheduler's
// logs show how a sweep divided.
func (s *Store) Histories(ctx context.Context, shard Shard, fn func(h *features.History) error) error {
	var h features.History
	n, err := s.sweep(ctx, shardSpan(shard), &h, fn)
	if err == nil {
		n.log(ctx, s.log, shard)
	}
	return err
}

// HistoriesUnordered is Histories without the order: it splits the shard
// into up to streams disjoint spans of accounts and reads them at once,
// each with queries of its own, so that the database's work on one span
// overlaps the decoding of the others and the caller's work. Each span is
// a range of account ids cut at equal counts of the accounts table or,
// for a shard, a range of its buckets. fn is called on the calling
// goroutine, one history at a time, with the accounts of each span in
// account_id order but the spans interleaved as their rows arrive; it
// must not keep h or its slices after it returns. Memory is bounded by
// two histories a span. With streams < 2 it is Histories.
func (s *Store) HistoriesUnordered(ctx context.Context, shard Shard, streams int, fn func(h *features.History) error) error {
	spans, err := s.spans(ctx, shard, streams)
	if err != nil {
		return err
	}
	if len(spans) == 1 {
		return s.Histories(ctx, shard, fn)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Each span's sweep hands its history over by swapping it with a free
	// one, so that no history is copied and each keeps its buffers.
	ready := make(chan *features.History)
	free := make(chan *features.History, 2*len(spans))
	for range cap(free) {
		free <- new(features.History)
	}
	counts := make([]sweepCounts, len(spans))
	var wg sync.WaitGroup
	for i, sp := range spans {
		wg.Go(func() {
			var h features.History
			n, err := s.sweep(ctx, sp, &h, func(h *features.History) error {
				var out *features.History
				select {
				case out = <-free:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
				*out, *h = *h, *out
				select {
				case ready <- out:
					return nil
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			})
			counts[i] = n
			if err != nil {
				cancel(err)
			}
		})
	}
	go func() {
		wg.Wait()
		close(ready)
	}()
	for h := range ready {
		if ctx.Err() == nil {
			if err := fn(h); err != nil {
				cancel(err)
			}
		}
		free <- h
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	var total sweepCounts
	for _, n := range counts {
		total.add(n)
	}
	total.log(ctx, s.log, shard)
	return nil
}

// History returns one account's history. It is empty, but for AccountID,
// when the store holds nothing about the account.
func (s *Store) History(ctx context.Context, accountID string) (*features.History, error) {
	h := &features.History{AccountID: accountID}
	_, err := s.sweep(ctx, span{account: accountID}, h, func(*features.History) error { return nil })
	return h, err
}

// span is what the queries of one sweep read: one account; or the
// accounts with ids in [from, to), "" leaving an end open, and, when
// buckets is set, the shard buckets in [lo, hi).
type span struct {
	account  string
	from, to string
	buckets  bool
	lo, hi   int
}

// shardSpan returns the span of every account of shard.
func shardSpan(shard Shard) span {
	if shard.Count <= 1 {
		return span{}
	}
	lo, hi := shard.buckets()
	return span{buckets: true, lo: lo, hi: hi}
}

// spans divides shard into up to n spans of about equal numbers of
// accounts: a shard into ranges of its buckets; every account into
// ranges of account ids cut at every (count/n)-th id of the accounts
// table, so that each span's queries read one range of each table's
// (account_id, time) index.
func (s *Store) spans(ctx context.Context, shard Shard, n int) ([]span, error) {
	if n < 2 {
		return []span{shardSpan(shard)}, nil
	}
	if shard.Count > 1 {
		lo, hi := shard.buckets()
		n = min(n, hi-lo)
		out := make([]span, n)
		for i := range out {
			out[i] = span{buckets: true, lo: lo + (hi-lo)*i/n, hi: lo + (hi-lo)*(i+1)/n}
		}
		return out, nil
	}
	var count int
	if err := s.r.GetContext(ctx, &count, "SELECT count(*) FROM accounts"); err != nil {
		return nil, fmt.Errorf("dividing the accounts: %w", err)
	}
	out := []span{{}}
	for i := 1; i < n && count >= n; i++ {
		var cut string
		err := s.r.GetContext(ctx, &cut, s.r.Rebind("SELECT account_id FROM accounts ORDER BY account_id LIMIT 1 OFFSET ?"), count*i/n)
		if err != nil {
			return nil, fmt.Errorf("dividing the accounts: %w", err)
		}
		if last := &out[len(out)-1]; cut > last.from {
			last.to = cut
			out = append(out, span{from: cut})
		}
	}
	return out, nil
}

// sweepCounts counts what a sweep read: its accounts, and the rows of
// each of features.Tables.
type sweepCounts struct {
	accounts int64
	rows     []int64
}

func (n *sweepCounts) add(o sweepCounts) {
	n.accounts += o.accounts
	if n.rows == nil {
		n.rows = make([]int64, len(features.Tables))
	}
	for i, r := range o.rows {
		n.rows[i] += r
	}
}

// log logs what a sweep of shard read: its accounts, and the rows of each
// table and in all.
func (n sweepCounts) log(ctx context.Context, l *slog.Logger, shard Shard) {
	var (
		tables []any
		total  int64
	)
	for i, r := range n.rows {
		tables = append(tables, slog.Int64(string(features.Tables[i]), r))
		total += r
	}
	l.InfoContext(ctx, "read histories", "shard", shard.String(), "accounts", n.accounts, "rows", total,
		slog.Group("table_rows", tables...))
}

// sweep merges the ordered streams of sp's rows of every table into
// histories, built in h, and calls fn with each, in account_id order. It
// returns what it read.
func (s *Store) sweep(ctx context.Context, sp span, h *features.History, fn func(*features.History) error) (sweepCounts, error) {
	var n sweepCounts
	ctx, cancel := context.WithCancel(ctx)
	// SQLite keeps each (WITHOUT ROWID) table in key order, so reading in
	// that order is one sequential scan, while reading by the time index
	// costs a B-tree search of the table per row: most of a sweep's time.
	// Each account's records are then sorted by time in memory.
	keyOrder := s.dialect.name() == "sqlite"
	cursors := make([]*cursor, 0, len(features.Tables))
	defer func() {
		// Cancelled first, the queries stop on the server: closing rows
		// that are still streaming reads them to the end, which for a
		// sweep that fn stopped early (the scorer's reference sample) is
		// most of every table.
		cancel()
		for _, c := range cursors {
			c.rows.close()
		}
	}()
	for _, t := range features.Tables {
		order := orderColumns(t)
		if keyOrder {
			order = keyColumns(t)
		}
		rows, err := s.dialect.sweepRows(ctx, s.r, t, sweepQuery(s.dialect.name(), t, order, sp))
		if err != nil {
			return n, fmt.Errorf("reading %s: %w", t, err)
		}
		c := &cursor{table: t, rows: rows}
		cursors = append(cursors, c)
		if err := c.advance(); err != nil {
			return n, err
		}
	}
	for {
		var (
			next  string
			found bool
		)
		for _, c := range cursors {
			if c.rec != nil && (!found || c.account < next) {
				next, found = c.account, true
			}
		}
		if !found {
			for _, c := range cursors {
				n.rows = append(n.rows, c.read)
			}
			return n, nil
		}
		n.accounts++
		h.Reset(next)
		for _, c := range cursors {
			for c.rec != nil && c.account == next {
				if err := h.Add(c.rec); err != nil {
					return n, err
				}
				if err := c.advance(); err != nil {
					return n, err
				}
			}
		}
		if keyOrder {
			h.SortByTime()
		}
		if err := fn(h); err != nil {
			return n, err
		}
	}
}

// query is a sweep's query of one table, with ? placeholders.
type query struct {
	sql  string
	args []any
	// many says the query reads many accounts' rows: PostgreSQL runs it
	// in a read-only transaction of its own without JIT compilation.
	many bool
	// indexOrder says the query reads one range of the index whose order
	// it asks for, so that the database need not sort, and PostgreSQL is
	// told not to.
	indexOrder bool
}

// sweepQuery returns the query that reads table t of sp in order.
//
// A shard's accounts are one range of the (shard_bucket, account_id)
// index, read for their ids only; each account's rows are then read by
// key. PostgreSQL is made to join them so, by a LATERAL subquery per
// account (a merge or hash join would read every row); it sorts the few
// thousand ids, and then only the ties of each account by time. SQLite
// runs IN (subquery) as a sorted list of ids, each looked up in the key.
func sweepQuery(dialect string, t features.Table, order []string, sp span) query {
	cols := strings.Join(storedColumns(t), ", ")
	switch {
	case sp.account != "":
		return query{sql: "SELECT " + cols + " FROM " + string(t) + " WHERE account_id = ? ORDER BY " + strings.Join(order, ", "),
			args: []any{sp.account}}
	case !sp.buckets:
		var (
			where []string
			args  []any
		)
		if sp.from != "" {
			where, args = append(where, "account_id >= ?"), append(args, sp.from)
		}
		if sp.to != "" {
			where, args = append(where, "account_id < ?"), append(args, sp.to)
		}
		q := "SELECT " + cols + " FROM " + string(t)
		if where != nil {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		return query{sql: q + " ORDER BY " + strings.Join(order, ", "), args: args, many: true, indexOrder: true}
	}
	if dialect == "postgres" {
		accounts := "SELECT DISTINCT account_id FROM " + string(t) + " WHERE shard_bucket >= ? AND shard_bucket < ? ORDER BY account_id"
		by := "s.account_id" // order[0]
		for _, c := range order[1:] {
			by += ", e." + c
		}
		return query{sql: "SELECT e.* FROM (" + accounts + ") s CROSS JOIN LATERAL (SELECT " + cols + " FROM " + string(t) +
			" WHERE account_id = s.account_id OFFSET 0) e ORDER BY " + by, args: []any{sp.lo, sp.hi}, many: true}
	}
	accounts := "SELECT account_id FROM " + string(t) + " INDEXED BY " + string(t) + "_shard" +
		" WHERE churn_shard_bucket(account_id) >= ? AND churn_shard_bucket(account_id) < ?"
	return query{sql: "SELECT " + cols + " FROM " + string(t) + " WHERE account_id IN (" + accounts + ") ORDER BY " +
		strings.Join(order, ", "), args: []any{sp.lo, sp.hi}, many: true}
}

// orderColumns is the order Histories reads t in: by account, then time,
// then key, which the (account_id, time) index serves (see migration 0001).
func orderColumns(t features.Table) []string {
	if t == features.Accounts {
		return []string{"account_id"}
	}
	return []string{"account_id", t.TimeColumn(), t.Key()}
}

// rowStream is one query's records, in its order.
type rowStream interface {
	// next returns the next record, or nil after the last. Every record
	// but an *features.Account may be reused by the call after next.
	next() (recordio.Record, error)
	// close stops the query and releases its connection.
	close()
}

// cursor is one table's ordered stream of records.
type cursor struct {
	table   features.Table
	rows    rowStream
	rec     recordio.Record // the current record; nil after the last
	account string          // the current record's account_id
	read    int64           // rows read so far
}

func (c *cursor) advance() error {
	rec, err := c.rows.next()
	if err != nil {
		return err
	}
	c.rec = rec
	if rec != nil {
		c.account = accountOf(rec)
		c.read++
	}
	return nil
}

// sqlRows is a rowStream of database/sql rows of table t, each scanned
// into a new record.
type sqlRows struct {
	t    features.Table
	rows *sql.Rows
}

func (r sqlRows) next() (recordio.Record, error) {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.t, err)
		}
		return nil, nil
	}
	return scanRow(r.rows, r.t)
}

func (r sqlRows) close() { r.rows.Close() }

func accountOf(rec recordio.Record) string {
	switch r := rec.(type) {
	case *features.Account:
		return r.AccountID
	case *features.UsageEvent:
		return r.AccountID
	case *features.Ticket:
		return r.AccountID
	case *features.Escalation:
		return r.AccountID
	case *features.SurveyResponse:
		return r.AccountID
	case *features.BillingChange:
		return r.AccountID
	}
	return ""
}
