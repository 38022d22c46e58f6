package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"

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
// driver reads rows off the connection as fn consumes them, so the server
// streams the result under TCP flow control rather than the client
// holding it. On SQLite the order is the table's key, its storage order,
// and each account's records are sorted by time in memory. The six
// queries do not share a snapshot, so a load that commits during the
// sweep may show in some tables only.
//
// A shard's queries read only its own rows: each finds the shard's
// accounts in one range of the table's (shard_bucket, account_id) index
// and reads their rows by key (see Shard and sweepQuery). Histories logs
// the accounts and the rows of each table it read, so that a scheduler's
// logs show how a sweep divided.
func (s *Store) Histories(ctx context.Context, shard Shard, fn func(h *features.History) error) error {
	return s.histories(ctx, "", shard, fn)
}

// History returns one account's history. It is empty, but for AccountID,
// when the store holds nothing about the account.
func (s *Store) History(ctx context.Context, accountID string) (*features.History, error) {
	h := &features.History{AccountID: accountID}
	err := s.histories(ctx, accountID, Shard{}, func(got *features.History) error {
		*h = *got
		return nil
	})
	return h, err
}

// histories merges the tables' ordered streams; accountID, when set,
// restricts every query to that account, and shard to the shard's.
func (s *Store) histories(ctx context.Context, accountID string, shard Shard, fn func(*features.History) error) error {
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
			c.rows.Close()
		}
	}()
	for _, t := range features.Tables {
		order := orderColumns(t)
		if keyOrder {
			order = keyColumns(t)
		}
		q, args := sweepQuery(s.dialect.name(), t, order, accountID, shard)
		rows, err := s.r.QueryContext(ctx, s.r.Rebind(q), args...)
		if err != nil {
			return fmt.Errorf("reading %s: %w", t, err)
		}
		c := &cursor{table: t, rows: rows}
		cursors = append(cursors, c)
		if err := c.advance(); err != nil {
			return err
		}
	}
	var (
		h        features.History
		accounts int
	)
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
			if accountID == "" {
				logSweep(ctx, shard, accounts, cursors)
			}
			return nil
		}
		accounts++
		h.Reset(next)
		for _, c := range cursors {
			for c.rec != nil && c.account == next {
				if err := h.Add(c.rec); err != nil {
					return err
				}
				if err := c.advance(); err != nil {
					return err
				}
			}
		}
		if keyOrder {
			h.SortByTime()
		}
		if err := fn(&h); err != nil {
			return err
		}
	}
}

// sweepQuery returns the query, with ? placeholders, that reads table t
// in order, restricted to one account when accountID is set, else to the
// shard's accounts.
//
// A shard's accounts are one range of the (shard_bucket, account_id)
// index, read for their ids only; each account's rows are then read by
// key. PostgreSQL is made to join them so, by a LATERAL subquery per
// account (a merge or hash join would read every row); it sorts the few
// thousand ids, and then only the ties of each account by time. SQLite
// runs IN (subquery) as a sorted list of ids, each looked up in the key.
func sweepQuery(dialect string, t features.Table, order []string, accountID string, shard Shard) (string, []any) {
	cols := strings.Join(storedColumns(t), ", ")
	switch {
	case accountID != "":
		return "SELECT " + cols + " FROM " + string(t) + " WHERE account_id = ? ORDER BY " + strings.Join(order, ", "),
			[]any{accountID}
	case shard.Count <= 1:
		return "SELECT " + cols + " FROM " + string(t) + " ORDER BY " + strings.Join(order, ", "), nil
	}
	lo, hi := shard.buckets()
	if dialect == "postgres" {
		accounts := "SELECT DISTINCT account_id FROM " + string(t) + " WHERE shard_bucket >= ? AND shard_bucket < ? ORDER BY account_id"
		by := "s.account_id" // order[0]
		for _, c := range order[1:] {
			by += ", e." + c
		}
		return "SELECT e.* FROM (" + accounts + ") s CROSS JOIN LATERAL (SELECT " + cols + " FROM " + string(t) +
			" WHERE account_id = s.account_id OFFSET 0) e ORDER BY " + by, []any{lo, hi}
	}
	accounts := "SELECT account_id FROM " + string(t) + " INDEXED BY " + string(t) + "_shard" +
		" WHERE churn_shard_bucket(account_id) >= ? AND churn_shard_bucket(account_id) < ?"
	return "SELECT " + cols + " FROM " + string(t) + " WHERE account_id IN (" + accounts + ") ORDER BY " +
		strings.Join(order, ", "), []any{lo, hi}
}

// orderColumns is the order Histories reads t in: by account, then time,
// then key, which the (account_id, time) index serves (see migration 0001).
func orderColumns(t features.Table) []string {
	if t == features.Accounts {
		return []string{"account_id"}
	}
	return []string{"account_id", t.TimeColumn(), t.Key()}
}

// logSweep logs what a sweep read: its accounts, and the rows of each
// table and in all.
func logSweep(ctx context.Context, shard Shard, accounts int, cursors []*cursor) {
	var (
		tables []any
		total  int64
	)
	for _, c := range cursors {
		tables = append(tables, slog.Int64(string(c.table), c.read))
		total += c.read
	}
	slog.InfoContext(ctx, "read histories", "shard", shard.String(), "accounts", accounts, "rows", total,
		slog.Group("table_rows", tables...))
}

// cursor is one table's ordered stream of records.
type cursor struct {
	table   features.Table
	rows    *sql.Rows
	rec     recordio.Record // the current record; nil after the last
	account string          // the current record's account_id
	read    int64           // rows read so far
}

func (c *cursor) advance() error {
	if !c.rows.Next() {
		c.rec = nil
		if err := c.rows.Err(); err != nil {
			return fmt.Errorf("reading %s: %w", c.table, err)
		}
		return nil
	}
	rec, err := scanRow(c.rows, c.table)
	if err != nil {
		return err
	}
	c.rec, c.account = rec, accountOf(rec)
	c.read++
	return nil
}

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
