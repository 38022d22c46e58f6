package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openchurn/churn/serving/access"
)

// ErrUnknownKey is returned for an API key id or hash the store does not
// hold.
var ErrUnknownKey = errors.New("unknown API key")

// CreateAPIKey stores k. Its ID and Hash must be unique, and its Owner
// must pass access.ValidOwner.
func (s *Store) CreateAPIKey(ctx context.Context, k access.Key) error {
	if err := access.ValidOwner(k.Owner); err != nil {
		return fmt.Errorf("creating API key %s: %w", k.ID, err)
	}
	_, err := s.w.ExecContext(ctx, s.w.Rebind(`INSERT INTO api_keys (key_id, role, hash, name, owner, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		k.ID, string(k.Role), k.Hash, k.Name, k.Owner, s.dialect.timeArg(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("creating API key %s: %w", k.ID, err)
	}
	return nil
}

// RevokeAPIKey marks the key revoked at the given time. Revoking a key
// twice keeps the first time; an unknown id yields ErrUnknownKey.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.w.Rebind(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?`),
		s.dialect.timeArg(at), id)
	if err != nil {
		return fmt.Errorf("revoking API key %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("revoking API key %s: %w", id, ErrUnknownKey)
	}
	return nil
}

// APIKeys returns every key, revoked ones included, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]access.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key_id, role, hash, name, owner, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id`)
	if err != nil {
		return nil, fmt.Errorf("reading API keys: %w", err)
	}
	defer rows.Close()
	var keys []access.Key
	for rows.Next() {
		var k access.Key
		if err := rows.Scan(&k.ID, &k.Role, &k.Hash, &k.Name, &k.Owner, dbTime{&k.CreatedAt}, dbTime{&k.RevokedAt}); err != nil {
			return nil, fmt.Errorf("reading API keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading API keys: %w", err)
	}
	return keys, nil
}
