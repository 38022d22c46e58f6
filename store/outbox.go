package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/serving/alerts"
)

const deliveryColumns = "delivery_id, alert_id, owner, payload, status, attempts, next_attempt_at, last_error, created_at, delivered_at"

// insertDelivery queues d, the delivery of an alert of accountID, which
// the outbox row carries so that it can be distributed with the alert.
func (s *Store) insertDelivery(ctx context.Context, tx *sqlx.Tx, accountID string, d alerts.Delivery) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO alert_outbox (account_id, `+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0, ?, '', ?, NULL)`),
		accountID, d.ID, d.AlertID, d.Owner, string(d.Payload), alerts.DeliveryPending, s.dialect.timeArg(d.NextAttemptAt), s.dialect.timeArg(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("queueing delivery of alert %s: %w", d.AlertID, err)
	}
	return nil
}

func scanDelivery(row interface{ Scan(...any) error }) (alerts.Delivery, error) {
	var (
		d       alerts.Delivery
		payload string
	)
	err := row.Scan(&d.ID, &d.AlertID, &d.Owner, &payload, &d.Status, dbInt{&d.Attempts}, dbTime{&d.NextAttemptAt},
		&d.LastError, dbTime{&d.CreatedAt}, dbTime{&d.DeliveredAt})
	d.Payload = []byte(payload)
	return d, err
}

// ClaimDeliveries returns up to limit pending deliveries due at now, each
// claimed until now+lease: its attempt is counted and its next attempt
// moved past the lease, so that another dispatcher, in this process or
// another, does not send it while this one does. A claim is taken row by
// row with a compare-and-set on the attempt count, which works the same on
// both dialects.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]alerts.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(`SELECT `+deliveryColumns+` FROM alert_outbox
		WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, delivery_id LIMIT ?`),
		alerts.DeliveryPending, s.dialect.timeArg(now), limit)
	if err != nil {
		return nil, fmt.Errorf("reading due deliveries: %w", err)
	}
	var due []alerts.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading due deliveries: %w", err)
		}
		due = append(due, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading due deliveries: %w", err)
	}
	claimed := due[:0]
	until := now.Add(lease)
	for _, d := range due {
		res, err := s.w.ExecContext(ctx, s.w.Rebind(`UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = ?
			WHERE delivery_id = ? AND status = ? AND attempts = ?`), s.dialect.timeArg(until), d.ID, alerts.DeliveryPending, d.Attempts)
		if err != nil {
			return nil, fmt.Errorf("claiming delivery %s: %w", d.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			continue // another dispatcher took it
		}
		d.Attempts++
		d.NextAttemptAt = until
		claimed = append(claimed, d)
	}
	return claimed, nil
}

// MarkDelivered records that the receiver accepted the delivery.
func (s *Store) MarkDelivered(ctx context.Context, id string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, s.w.Rebind(`UPDATE alert_outbox SET status = ?, delivered_at = ?, last_error = '' WHERE delivery_id = ?`),
		alerts.DeliveryDelivered, s.dialect.timeArg(at), id)
	if err != nil {
		return fmt.Errorf("marking delivery %s delivered: %w", id, err)
	}
	return nil
}

// MarkFailed records a failed attempt: the delivery is retried at next,
// or moved to the dead-letter state when dead is true.
func (s *Store) MarkFailed(ctx context.Context, id, reason string, next time.Time, dead bool) error {
	status := alerts.DeliveryPending
	if dead {
		status = alerts.DeliveryDead
	}
	_, err := s.w.ExecContext(ctx, s.w.Rebind(`UPDATE alert_outbox SET status = ?, next_attempt_at = ?, last_error = ? WHERE delivery_id = ?`),
		status, s.dialect.timeArg(next), reason, id)
	if err != nil {
		return fmt.Errorf("marking delivery %s failed: %w", id, err)
	}
	return nil
}

// Deliveries returns the deliveries with the given status (every status
// when empty), oldest first, up to limit.
func (s *Store) Deliveries(ctx context.Context, status string, limit int) ([]alerts.Delivery, error) {
	q := `SELECT ` + deliveryColumns + ` FROM alert_outbox WHERE status = ? OR ? = '' ORDER BY created_at, delivery_id LIMIT ?`
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(q), status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	defer rows.Close()
	var out []alerts.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("reading deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	return out, nil
}

// Errors of RetryDelivery.
var (
	// ErrNoDelivery is returned for a delivery id the outbox does not hold.
	ErrNoDelivery = errors.New("no such delivery")
	// ErrDeliveryState is returned for a retry of a delivery that is not
	// dead.
	ErrDeliveryState = errors.New("only a dead delivery can be retried")
)

// RetryDelivery puts the dead delivery id back in the queue, due at now
// with its attempts counted from zero, and returns it as it now is.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time) (alerts.Delivery, error) {
	res, err := s.w.ExecContext(ctx, s.w.Rebind(`UPDATE alert_outbox SET status = ?, attempts = 0, next_attempt_at = ?
		WHERE delivery_id = ? AND status = ?`), alerts.DeliveryPending, s.dialect.timeArg(now), id, alerts.DeliveryDead)
	if err != nil {
		return alerts.Delivery{}, fmt.Errorf("retrying delivery %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return alerts.Delivery{}, fmt.Errorf("retrying delivery %s: %w", id, err)
	}
	d, err := scanDelivery(s.w.QueryRowContext(ctx, s.w.Rebind(`SELECT `+deliveryColumns+` FROM alert_outbox WHERE delivery_id = ?`), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return alerts.Delivery{}, fmt.Errorf("delivery %s: %w", id, ErrNoDelivery)
	case err != nil:
		return alerts.Delivery{}, fmt.Errorf("retrying delivery %s: %w", id, err)
	case n == 0:
		return d, fmt.Errorf("delivery %s is %s: %w", id, d.Status, ErrDeliveryState)
	}
	return d, nil
}

// OutboxStats counts the pending and dead deliveries and finds the oldest
// pending one, through the outbox's (status, next_attempt_at) index.
func (s *Store) OutboxStats(ctx context.Context) (alerts.OutboxStats, error) {
	var st alerts.OutboxStats
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(`SELECT status, COUNT(*) FROM alert_outbox WHERE status IN (?, ?) GROUP BY status`),
		alerts.DeliveryPending, alerts.DeliveryDead)
	if err != nil {
		return st, fmt.Errorf("counting deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status string
			n      int
		)
		if err := rows.Scan(&status, dbInt{&n}); err != nil {
			return st, fmt.Errorf("counting deliveries: %w", err)
		}
		if status == alerts.DeliveryPending {
			st.Pending = n
		} else {
			st.Dead = n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("counting deliveries: %w", err)
	}
	if st.Pending == 0 {
		return st, nil
	}
	err = s.r.QueryRowContext(ctx, s.r.Rebind(`SELECT created_at FROM alert_outbox WHERE status = ? ORDER BY created_at LIMIT 1`),
		alerts.DeliveryPending).Scan(dbTime{&st.OldestPending})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("finding the oldest pending delivery: %w", err)
	}
	return st, nil
}
