package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/serving/alerts"
)

// AlertBatch opens alerts in one transaction, so that a batch run pays
// one commit for the alerts of a chunk of accounts rather than one for
// each (on PostgreSQL a commit waits for the WAL to reach the disk).
// Nothing it opens is visible to others, nor delivered, until Commit. On
// SQLite the transaction holds the store's one writer: a caller must not
// write through the Store before it commits or rolls back.
type AlertBatch struct {
	s  *Store
	tx *sqlx.Tx
}

// BeginAlerts starts an AlertBatch.
func (s *Store) BeginAlerts(ctx context.Context) (*AlertBatch, error) {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("opening alerts: %w", err)
	}
	return &AlertBatch{s: s, tx: tx}, nil
}

// OpenAlert is Store.OpenAlert within the batch's transaction. After an
// error the batch can only be rolled back.
func (b *AlertBatch) OpenAlert(ctx context.Context, a alerts.Alert, d alerts.Delivery, cooldownSince time.Time) (bool, error) {
	return b.s.openAlert(ctx, b.tx, a, d, cooldownSince)
}

// Commit stores the alerts the batch opened.
func (b *AlertBatch) Commit() error {
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("opening alerts: %w", err)
	}
	return nil
}

// Rollback discards the alerts the batch opened, unless it committed.
func (b *AlertBatch) Rollback() { b.tx.Rollback() }
