package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openchurn/churn/features"
)

// ErrNoAccount is returned for an account the accounts table does not
// hold.
var ErrNoAccount = errors.New("no such account")

// Account returns the stored accounts row of id, or ErrNoAccount. Unlike
// History it reads no events, which keeps a lookup to one indexed row.
func (s *Store) Account(ctx context.Context, id string) (*features.Account, error) {
	t := features.Accounts
	rows, err := s.r.QueryContext(ctx, s.r.Rebind("SELECT "+strings.Join(storedColumns(t), ", ")+" FROM accounts WHERE account_id = ?"), id)
	if err != nil {
		return nil, fmt.Errorf("reading account %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading account %s: %w", id, err)
		}
		return nil, fmt.Errorf("account %s: %w", id, ErrNoAccount)
	}
	rec, err := scanRow(rows, t)
	if err != nil {
		return nil, err
	}
	return rec.(*features.Account), nil
}

// AccountIDs returns up to limit account ids after the given one, in
// account_id order: a page of the accounts table.
func (s *Store) AccountIDs(ctx context.Context, after string, limit int) ([]string, error) {
	var ids []string
	err := s.r.SelectContext(ctx, &ids, s.r.Rebind("SELECT account_id FROM accounts WHERE account_id > ? ORDER BY account_id LIMIT ?"), after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	return ids, nil
}
