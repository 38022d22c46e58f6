package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/serving/alerts"
)

// ErrNoAlert is returned for an alert id the store does not hold.
var ErrNoAlert = errors.New("no such alert")

// ErrAlertState is returned for a status change the alert's status does
// not allow, such as acknowledging a resolved alert.
var ErrAlertState = errors.New("alert status does not allow this")

const alertColumns = "alert_id, account_id, rule, owner, severity, status, message, detail, observed_at, opened_at, acknowledged_at, resolved_at"

func scanAlert(row interface{ Scan(...any) error }) (alerts.Alert, error) {
	var (
		a      alerts.Alert
		detail string
	)
	err := row.Scan(&a.ID, &a.AccountID, &a.Rule, &a.Owner, &a.Severity, &a.Status, &a.Message, &detail,
		dbTime{&a.ObservedAt}, dbTime{&a.OpenedAt}, dbTime{&a.AcknowledgedAt}, dbTime{&a.ResolvedAt})
	a.Detail = json.RawMessage(detail)
	return a, err
}

// OpenAlert stores a as a new open alert together with its webhook
// delivery d (whose AlertID it sets), in one transaction, unless the
// account already has an alert of a.Rule that is not resolved, or had one
// resolved after cooldownSince. It reports whether it stored them. The
// partial unique index on (account_id, rule) keeps concurrent writers from
// opening two.
func (s *Store) OpenAlert(ctx context.Context, a alerts.Alert, d alerts.Delivery, cooldownSince time.Time) (bool, error) {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("opening alert: %w", err)
	}
	defer tx.Rollback()
	if ok, err := s.openAlert(ctx, tx, a, d, cooldownSince); err != nil || !ok {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("opening alert: %w", err)
	}
	return true, nil
}

// openAlert is OpenAlert within tx.
func (s *Store) openAlert(ctx context.Context, tx *sqlx.Tx, a alerts.Alert, d alerts.Delivery, cooldownSince time.Time) (bool, error) {
	detail := string(a.Detail)
	if detail == "" {
		detail = "{}"
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO alerts (alert_id, account_id, rule, owner, severity, status, message, detail, observed_at, opened_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE account_id = ? AND rule = ? AND resolved_at > ?)
		ON CONFLICT DO NOTHING`),
		a.ID, a.AccountID, a.Rule, a.Owner, a.Severity, alerts.StatusOpen, a.Message, detail,
		s.dialect.timeArg(a.ObservedAt), s.dialect.timeArg(a.OpenedAt),
		a.AccountID, a.Rule, s.dialect.timeArg(cooldownSince))
	if err != nil {
		return false, fmt.Errorf("opening alert %s on %s: %w", a.Rule, a.AccountID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	d.AlertID = a.ID
	if err := s.insertDelivery(ctx, tx, a.AccountID, d); err != nil {
		return false, err
	}
	return true, nil
}

// Alert returns the alert with the given id, or ErrNoAlert.
func (s *Store) Alert(ctx context.Context, id string) (alerts.Alert, error) {
	a, err := scanAlert(s.r.QueryRowContext(ctx, s.r.Rebind("SELECT "+alertColumns+" FROM alerts WHERE alert_id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("alert %s: %w", id, ErrNoAlert)
	}
	if err != nil {
		return a, fmt.Errorf("reading alert %s: %w", id, err)
	}
	return a, nil
}

// Alerts returns the alerts matching q, latest opened first.
func (s *Store) Alerts(ctx context.Context, q alerts.Query) ([]alerts.Alert, error) {
	var (
		where = []string{"1 = 1"}
		args  []any
	)
	if q.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, q.AccountID)
	}
	if q.Owner != "" {
		where, args = append(where, "owner = ?"), append(args, q.Owner)
	}
	switch q.Status {
	case "":
	case alerts.StatusActive:
		where, args = append(where, "status <> ?"), append(args, alerts.StatusResolved)
	default:
		where, args = append(where, "status = ?"), append(args, q.Status)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, s.r.Rebind("SELECT "+alertColumns+" FROM alerts WHERE "+
		strings.Join(where, " AND ")+" ORDER BY opened_at DESC, alert_id LIMIT ?"), args...)
	if err != nil {
		return nil, fmt.Errorf("reading alerts: %w", err)
	}
	defer rows.Close()
	var out []alerts.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("reading alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading alerts: %w", err)
	}
	return out, nil
}

// AcknowledgeAlert marks an open alert acknowledged at the given time and
// returns it. Acknowledging an acknowledged alert changes nothing; a
// resolved one yields ErrAlertState.
func (s *Store) AcknowledgeAlert(ctx context.Context, id string, at time.Time) (alerts.Alert, error) {
	return s.setAlertStatus(ctx, id, `UPDATE alerts SET status = ?, acknowledged_at = ? WHERE alert_id = ? AND status = ?`,
		alerts.StatusAcknowledged, s.dialect.timeArg(at), id, alerts.StatusOpen)
}

// ResolveAlert marks an open or acknowledged alert resolved at the given
// time, which starts its rule's cooldown for the account, and returns it.
// Resolving a resolved alert changes nothing.
func (s *Store) ResolveAlert(ctx context.Context, id string, at time.Time) (alerts.Alert, error) {
	return s.setAlertStatus(ctx, id, `UPDATE alerts SET status = ?, resolved_at = ? WHERE alert_id = ? AND status <> ?`,
		alerts.StatusResolved, s.dialect.timeArg(at), id, alerts.StatusResolved)
}

// ResolveAccountAlerts resolves, at the given time, the open and
// acknowledged alerts of accountIDs of the named rules, or of every rule
// when rules is nil, and returns how many it resolved.
func (s *Store) ResolveAccountAlerts(ctx context.Context, accountIDs, rules []string, at time.Time) (int64, error) {
	var n int64
	for start := 0; start < len(accountIDs); start += 500 {
		batch := accountIDs[start:min(start+500, len(accountIDs))]
		q := "UPDATE alerts SET status = ?, resolved_at = ? WHERE status <> ? AND account_id IN (?)"
		args := []any{alerts.StatusResolved, s.dialect.timeArg(at), alerts.StatusResolved, batch}
		if rules != nil {
			q += " AND rule IN (?)"
			args = append(args, rules)
		}
		q, args, err := sqlx.In(q, args...)
		if err != nil {
			return n, fmt.Errorf("resolving alerts: %w", err)
		}
		res, err := s.w.ExecContext(ctx, s.w.Rebind(q), args...)
		if err != nil {
			return n, fmt.Errorf("resolving alerts: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("resolving alerts: %w", err)
		}
		n += k
	}
	return n, nil
}

// setAlertStatus runs update (whose arguments end with the alert id and
// the status it must have or not have) and returns the alert. An update
// that matched nothing is fine when the alert already has the target
// status (args[0]) and an error otherwise.
func (s *Store) setAlertStatus(ctx context.Context, id, update string, args ...any) (alerts.Alert, error) {
	if _, err := s.w.ExecContext(ctx, s.w.Rebind(update), args...); err != nil {
		return alerts.Alert{}, fmt.Errorf("updating alert %s: %w", id, err)
	}
	a, err := s.Alert(ctx, id)
	if err != nil {
		return a, err
	}
	if a.Status != args[0] {
		return a, fmt.Errorf("alert %s is %s: %w", id, a.Status, ErrAlertState)
	}
	return a, nil
}
