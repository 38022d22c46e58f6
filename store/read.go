package store

import (
	"context"
	"database/sql"
	"fmt"
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
// sweep may show in some tables only. The shard is filtered here, not in
// SQL: every shard reads every row.
func (s *Store) Histories(ctx context.Context, shard Shard, fn func(h *features.History) error) error {
	return s.histories(ctx, "", shard.Contains, fn)
}

// History returns one account's history. It is empty, but for AccountID,
// when the store holds nothing about the account.
func (s *Store) History(ctx context.Context, accountID string) (*features.History, error) {
	h := &features.History{AccountID: accountID}
	err := s.histories(ctx, accountID, nil, func(got *features.History) error {
		*h = *got
		return nil
	})
	return h, err
}

// histories merges the tables' ordered streams; accountID, when set,
// restricts every query to that account. Accounts that keep, when set,
// refuses are skipped without being assembled.
func (s *Store) histories(ctx context.Context, accountID string, keep func(string) bool, fn func(*features.History) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// SQLite keeps each (WITHOUT ROWID) table in key order, so reading in
	// that order is one sequential scan, while reading by the time index
	// costs a B-tree search of the table per row: most of a sweep's time.
	// Each account's records are then sorted by time in memory.
	keyOrder := s.dialect.name() == "sqlite"
	cursors := make([]*cursor, 0, len(features.Tables))
	defer func() {
		for _, c := range cursors {
			c.rows.Close()
		}
	}()
	for _, t := range features.Tables {
		q := "SELECT " + strings.Join(storedColumns(t), ", ") + " FROM " + string(t)
		var args []any
		if accountID != "" {
			q += s.r.Rebind(" WHERE account_id = ?")
			args = append(args, accountID)
		}
		order := orderColumns(t)
		if keyOrder {
			order = keyColumns(t)
		}
		q += " ORDER BY " + strings.Join(order, ", ")
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("reading %s: %w", t, err)
		}
		c := &cursor{table: t, rows: rows}
		cursors = append(cursors, c)
		if err := c.advance(); err != nil {
			return err
		}
	}
	var h features.History
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
			return nil
		}
		h.Reset(next)
		skip := keep != nil && !keep(next)
		for _, c := range cursors {
			for c.rec != nil && c.account == next {
				if !skip {
					if err := h.Add(c.rec); err != nil {
						return err
					}
				}
				if err := c.advance(); err != nil {
					return err
				}
			}
		}
		if skip {
			continue
		}
		if keyOrder {
			h.SortByTime()
		}
		if err := fn(&h); err != nil {
			return err
		}
	}
}

// orderColumns is the order Histories reads t in: by account, then time,
// then key, which the (account_id, time) index serves (see migration 0001).
func orderColumns(t features.Table) []string {
	if t == features.Accounts {
		return []string{"account_id"}
	}
	return []string{"account_id", t.TimeColumn(), t.Key()}
}

// cursor is one table's ordered stream of records.
type cursor struct {
	table   features.Table
	rows    *sql.Rows
	rec     recordio.Record // the current record; nil after the last
	account string          // the current record's account_id
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
