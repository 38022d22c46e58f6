package dataset

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// Source streams account histories in ascending account_id order. fn must
// not keep h after it returns: a Source may reuse it for the next account.
// store.Store satisfies it through SourceFunc, bound to a shard.
type Source interface {
	Histories(ctx context.Context, fn func(h *features.History) error) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context, fn func(h *features.History) error) error

// Histories calls f(ctx, fn).
func (f SourceFunc) Histories(ctx context.Context, fn func(h *features.History) error) error {
	return f(ctx, fn)
}

// Memory is a Source of histories held in memory, already in account
// order.
type Memory []*features.History

// Histories calls fn with every history in order.
func (m Memory) Histories(ctx context.Context, fn func(h *features.History) error) error {
	for _, h := range m {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return nil
}

// ReadMemory decodes CSV exports of canonical tables into histories
// ordered as the store orders them: accounts by account_id, each table by
// its time column, then its key. It is meant for tests, examples and
// benchmarks on data that fits in memory.
func ReadMemory(ctx context.Context, tables map[features.Table]io.Reader) (Memory, error) {
	byID := map[string]*features.History{}
	// Usage repeats a few user ids and feature names millions of times:
	// one copy of each saves memory and keeps sweeps in cache.
	strs := map[string]string{}
	intern := func(s string) string {
		if c, ok := strs[s]; ok {
			return c
		}
		strs[s] = s
		return s
	}
	get := func(id string) *features.History {
		h := byID[id]
		if h == nil {
			h = &features.History{AccountID: id}
			byID[id] = h
		}
		return h
	}
	for _, t := range features.Tables {
		r := tables[t]
		if r == nil {
			continue
		}
		d, err := recordio.NewDecoder(r, string(t), t, recordio.CSV, nil)
		if err != nil {
			return nil, err
		}
		for {
			rec, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", t, err)
			}
			switch r := rec.(type) {
			case *features.Account:
				get(r.AccountID).Account = r
			case *features.UsageEvent:
				h := get(r.AccountID)
				r.UserID, r.Feature = intern(r.UserID), intern(r.Feature)
				h.Usage = append(h.Usage, *r)
			case *features.Ticket:
				h := get(r.AccountID)
				h.Tickets = append(h.Tickets, *r)
			case *features.Escalation:
				h := get(r.AccountID)
				h.Escalations = append(h.Escalations, *r)
			case *features.SurveyResponse:
				h := get(r.AccountID)
				h.Surveys = append(h.Surveys, *r)
			case *features.BillingChange:
				h := get(r.AccountID)
				h.Billing = append(h.Billing, *r)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	m := make(Memory, 0, len(byID))
	for _, h := range byID {
		h.SortByTime()
		m = append(m, h)
	}
	slices.SortFunc(m, func(a, b *features.History) int { return strings.Compare(a.AccountID, b.AccountID) })
	return m, nil
}
