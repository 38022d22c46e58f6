package alerts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
)

// AlertStore stores an alert with its delivery unless one of its rule is
// open for the account or was resolved after cooldownSince, and resolves
// the open and acknowledged alerts of accounts, of the named rules (of
// every rule when rules is nil).
type AlertStore interface {
	OpenAlert(ctx context.Context, a Alert, d Delivery, cooldownSince time.Time) (bool, error)
	ResolveAccountAlerts(ctx context.Context, accountIDs, rules []string, at time.Time) (int64, error)
}

// Engine evaluates rules and opens alerts for those that fire.
type Engine struct {
	Store AlertStore
	Rules Rules
	// Now returns the wall-clock time alerts are opened at, against which
	// cooldowns run; nil means time.Now.
	Now func() time.Time
}

// Raise evaluates the rules for o (with ingestOnly, only those evaluated
// at ingestion time) and opens an alert, with its webhook delivery, for
// each that fires and is neither open nor cooling down for the account. It
// returns the alerts it opened.
func (e *Engine) Raise(ctx context.Context, o *Observation, ingestOnly bool) ([]Alert, error) {
	firings := e.Rules.Evaluate(o, ingestOnly)
	if len(firings) == 0 {
		return nil, nil
	}
	now := e.now()
	var owner, name string
	if a := o.History.Account; a != nil {
		owner, name = a.Owner, a.Name
	}
	var opened []Alert
	for _, f := range firings {
		detail, err := json.Marshal(f.Detail)
		if err != nil {
			return opened, fmt.Errorf("alert %s on %s: %w", f.Rule.Name, o.History.AccountID, err)
		}
		a := Alert{ID: newID("al_"), AccountID: o.History.AccountID, Rule: f.Rule.Name, Owner: owner,
			Severity: f.Severity, Status: StatusOpen, Message: f.Message, Detail: detail,
			ObservedAt: f.At.UTC(), OpenedAt: now}
		payload, err := json.Marshal(newPayload(a, name))
		if err != nil {
			return opened, fmt.Errorf("alert %s on %s: %w", f.Rule.Name, o.History.AccountID, err)
		}
		d := Delivery{ID: newID("dl_"), Owner: owner, Payload: payload, NextAttemptAt: now, CreatedAt: now}
		ok, err := e.Store.OpenAlert(ctx, a, d, now.Add(-f.Rule.Cooldown))
		if err != nil {
			return opened, err
		}
		if ok {
			opened = append(opened, a)
		}
	}
	return opened, nil
}

func (e *Engine) now() time.Time {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	return now.UTC().Truncate(time.Microsecond)
}

// Settle resolves the alerts that no longer concern anyone as of asOf:
// every alert of an account that churned by then, and the trial alerts
// (trial_became_pql, trial_going_cold and rules of their kinds) of a
// trial that converted or ended by then. It returns how many it resolved.
func (e *Engine) Settle(ctx context.Context, asOf time.Time, accounts []*features.Account) (int64, error) {
	var churned, closed []string
	for _, a := range accounts {
		switch {
		case a == nil:
		case !a.ChurnedAt.IsZero() && !a.ChurnedAt.After(asOf):
			churned = append(churned, a.AccountID)
		case !a.ConvertedAt.IsZero() && !a.ConvertedAt.After(asOf),
			!a.TrialEndsAt.IsZero() && !a.TrialEndsAt.After(asOf):
			closed = append(closed, a.AccountID)
		}
	}
	var n int64
	now := e.now()
	if len(churned) > 0 {
		k, err := e.Store.ResolveAccountAlerts(ctx, churned, nil, now)
		if err != nil {
			return n, err
		}
		n += k
	}
	if rules := e.Rules.TrialRules(); len(closed) > 0 && len(rules) > 0 {
		k, err := e.Store.ResolveAccountAlerts(ctx, closed, rules, now)
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// newID returns prefix followed by 16 random bytes in hex.
func newID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
