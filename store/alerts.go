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
	"github.com/openchurn/churn/serving/score"
)

// ErrNoAlert is returned for an alert id the store does not hold.
var ErrNoAlert = errors.New("no such alert")

// ErrAlertState is returned for a status change the alert's status does
// not allow, such as acknowledging a resolved alert.
var ErrAlertState = errors.New("alert status does not allow this")

const alertColumns = "alert_id, account_id, rule, owner, severity, status, message, detail, observed_at, opened_at, acknowledged_at, resolved_at, snoozed_until"

func scanAlert(row interface{ Scan(...any) error }) (alerts.Alert, error) {
	var (
		a      alerts.Alert
		detail string
	)
	err := row.Scan(&a.ID, &a.AccountID, &a.Rule, &a.Owner, &a.Severity, &a.Status, &a.Message, &detail,
		dbTime{&a.ObservedAt}, dbTime{&a.OpenedAt}, dbTime{&a.AcknowledgedAt}, dbTime{&a.ResolvedAt}, dbTime{&a.SnoozedUntil})
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

// alertARR is the SQL of an alert row's ARR (alerts.Row.ARR): the
// account's MRR × 12, else its conversion score's ARR, else 0.
const alertARR = "CASE WHEN a.mrr > 0 THEN a.mrr * 12 ELSE COALESCE(cv.arr, 0) END"

// severityWeight is the SQL of alerts.SeverityWeight(al.severity).
var severityWeight = func() string {
	var b strings.Builder
	b.WriteString("CASE al.severity")
	for _, sev := range alerts.Severities {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", sev, alerts.SeverityWeight(sev))
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}()

// alertListing selects the alert rows of a listing, with the fields
// Alerts scans, from the alerts matching its WHERE clause (to be
// appended), each with its account and current scores joined.
var alertListing = "SELECT al." + strings.ReplaceAll(alertColumns, ", ", ", al.") +
	", COALESCE(a.name, '') AS account_name, cs.health AS health, cs.band AS band, " + alertARR + " AS account_arr, (" +
	severityWeight + ") * (" + alertARR + `) AS sort_value
	FROM alerts al LEFT JOIN accounts a ON a.account_id = al.account_id
	LEFT JOIN current_scores cs ON cs.account_id = al.account_id AND cs.task = ?
	LEFT JOIN current_scores cv ON cv.account_id = al.account_id AND cv.task = ?
	WHERE `

// Alerts returns the alerts matching q, in q.Sort's order, after q.After,
// each with its account's name, current health and band, and ARR.
func (s *Store) Alerts(ctx context.Context, q alerts.Query) ([]alerts.Row, error) {
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	var (
		where = []string{"1 = 1"}
		args  = []any{score.TaskChurn, score.TaskConversion}
	)
	add := func(cond string, arg ...any) { where, args = append(where, cond), append(args, arg...) }
	if q.AccountID != "" {
		add("al.account_id = ?", q.AccountID)
	}
	if q.Owner != "" {
		add("al.owner = ?", q.Owner)
	}
	awake := " AND (al.snoozed_until IS NULL OR al.snoozed_until <= ?)"
	switch q.Status {
	case "":
	case alerts.StatusActive:
		add("al.status <> ?"+awake, alerts.StatusResolved, s.dialect.timeArg(now))
	case alerts.StatusSnoozed:
		add("al.status <> ? AND al.snoozed_until > ?", alerts.StatusResolved, s.dialect.timeArg(now))
	case alerts.StatusResolved:
		add("al.status = ?", q.Status)
	default:
		add("al.status = ?"+awake, q.Status, s.dialect.timeArg(now))
	}
	if len(q.Rules) > 0 {
		add("al.rule IN (?)", q.Rules)
	}
	if len(q.Severities) > 0 {
		add("al.severity IN (?)", q.Severities)
	}
	sort, order := q.Sort, "opened_at DESC, alert_id"
	switch sort {
	case "", alerts.SortNewest:
		sort = alerts.SortNewest
	case alerts.SortSeverityARR:
		order = "sort_value DESC, " + order
	default:
		return nil, fmt.Errorf("listing alerts: unknown order %q", q.Sort)
	}
	after := "1 = 1"
	if c := q.After; c != nil {
		if c.Sort != sort {
			return nil, fmt.Errorf("listing alerts: a cursor of order %q continues no listing in order %q", c.Sort, sort)
		}
		t := s.dialect.timeArg(c.OpenedAt)
		after = "opened_at < ? OR (opened_at = ? AND alert_id > ?)"
		afterArgs := []any{t, t, c.ID}
		if sort == alerts.SortSeverityARR {
			after = "sort_value < ? OR (sort_value = ? AND (" + after + "))"
			afterArgs = append([]any{c.Value, c.Value}, afterArgs...)
		}
		args = append(args, afterArgs...)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	query, args, err := sqlx.In("SELECT * FROM ("+alertListing+strings.Join(where, " AND ")+") listing WHERE "+after+
		" ORDER BY "+order+" LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	defer rows.Close()
	var out []alerts.Row
	for rows.Next() {
		var (
			r      alerts.Row
			health sql.NullFloat64
			band   sql.NullString
		)
		a, err := scanAlert(scanPrefix{rows, []any{&r.AccountName, &health, &band, &r.ARR, &r.Value}})
		if err != nil {
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
		r.Alert, r.Health, r.Band, r.Scored = a, health.Float64, band.String, health.Valid
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	return out, nil
}

// ActOnAlerts takes the action act (its Kind, By, Note, Until and At) on
// the alerts ids, all of them or none, in one transaction, and logs it
// for each alert it changed. Every id must name an alert, else the error
// is ErrNoAlert; an alert that is resolved may not be acknowledged or
// snoozed, else the error is ErrAlertState; either error names the ids
// and changes nothing. Acknowledging an acknowledged alert and resolving
// a resolved one leave them as they are, unlogged. It returns the ids it
// changed, in the order given, each once.
func (s *Store) ActOnAlerts(ctx context.Context, ids []string, act alerts.Action) ([]string, error) {
	var set string
	switch act.Kind {
	case alerts.ActionAcknowledge:
		set = "status = ?, acknowledged_at = ?"
	case alerts.ActionResolve:
		set = "status = ?, resolved_at = ?"
	case alerts.ActionSnooze:
		set = "snoozed_until = ?"
		if act.Until.IsZero() {
			return nil, fmt.Errorf("snoozing alerts: no end time")
		}
	default:
		return nil, fmt.Errorf("acting on alerts: unknown action %q", act.Kind)
	}
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("acting on alerts: %w", err)
	}
	defer tx.Rollback()
	lock := ""
	if s.dialect.name() == "postgres" {
		// Row locks, taken in id order so that two requests on
		// overlapping alerts wait for each other rather than deadlock;
		// SQLite's writer transactions already exclude other writers.
		lock = " ORDER BY alert_id FOR UPDATE"
	}
	q, args, err := sqlx.In("SELECT alert_id, account_id, status FROM alerts WHERE alert_id IN (?)"+lock, ids)
	if err != nil {
		return nil, fmt.Errorf("acting on alerts: %w", err)
	}
	rows, err := tx.QueryContext(ctx, tx.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("acting on alerts: %w", err)
	}
	type state struct{ account, status string }
	found := map[string]state{}
	for rows.Next() {
		var id string
		var st state
		if err := rows.Scan(&id, &st.account, &st.status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("acting on alerts: %w", err)
		}
		found[id] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("acting on alerts: %w", err)
	}
	var missing, refused, changed []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		st, ok := found[id]
		switch {
		case !ok:
			missing = append(missing, id)
		case st.status == alerts.StatusResolved && act.Kind != alerts.ActionResolve:
			refused = append(refused, id)
		case st.status == alerts.StatusResolved, st.status == alerts.StatusAcknowledged && act.Kind == alerts.ActionAcknowledge:
		default:
			changed = append(changed, id)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("alerts %s: %w", strings.Join(missing, ", "), ErrNoAlert)
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("alerts %s are resolved: %w", strings.Join(refused, ", "), ErrAlertState)
	}
	if len(changed) == 0 {
		return changed, nil
	}
	setArgs := []any{s.dialect.timeArg(act.Until)}
	switch act.Kind {
	case alerts.ActionAcknowledge:
		setArgs = []any{alerts.StatusAcknowledged, s.dialect.timeArg(act.At)}
	case alerts.ActionResolve:
		setArgs = []any{alerts.StatusResolved, s.dialect.timeArg(act.At)}
	}
	if q, args, err = sqlx.In("UPDATE alerts SET "+set+" WHERE alert_id IN (?)", append(setArgs, changed)...); err != nil {
		return nil, fmt.Errorf("acting on alerts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("%s alerts: %w", act.Kind, err)
	}
	insert := tx.Rebind(`INSERT INTO alert_actions (account_id, action_id, alert_id, action, key_id, key_name, note, snoozed_until, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	for _, id := range changed {
		if _, err := tx.ExecContext(ctx, insert, found[id].account, alerts.NewActionID(), id, act.Kind, act.By.KeyID, act.By.Name,
			act.Note, s.dialect.timeArg(act.Until), s.dialect.timeArg(act.At)); err != nil {
			return nil, fmt.Errorf("logging %s of alert %s: %w", act.Kind, id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("acting on alerts: %w", err)
	}
	return changed, nil
}

// AlertActions returns the logged actions on the alerts of an account,
// or on one of its alerts when alertID is not empty, newest first, at most
// limit (zero or less means 100).
func (s *Store) AlertActions(ctx context.Context, accountID, alertID string, limit int) ([]alerts.Action, error) {
	if limit <= 0 {
		limit = 100
	}
	where, args := "ac.account_id = ?", []any{accountID}
	if alertID != "" {
		where, args = where+" AND ac.alert_id = ?", append(args, alertID)
	}
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(`SELECT ac.action_id, ac.alert_id, ac.account_id, COALESCE(al.rule, ''), ac.action,
		ac.key_id, ac.key_name, ac.note, ac.snoozed_until, ac.at
		FROM alert_actions ac LEFT JOIN alerts al ON al.account_id = ac.account_id AND al.alert_id = ac.alert_id
		WHERE `+where+` ORDER BY ac.at DESC, ac.action_id LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading the actions on alerts of %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []alerts.Action
	for rows.Next() {
		var a alerts.Action
		if err := rows.Scan(&a.ID, &a.AlertID, &a.AccountID, &a.Rule, &a.Kind, &a.By.KeyID, &a.By.Name, &a.Note,
			dbTime{&a.Until}, dbTime{&a.At}); err != nil {
			return nil, fmt.Errorf("reading the actions on alerts of %s: %w", accountID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the actions on alerts of %s: %w", accountID, err)
	}
	return out, nil
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
