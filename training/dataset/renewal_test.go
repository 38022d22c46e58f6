package dataset_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/dataset"
)

func on(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func billed(id, kind, plan string, at time.Time) features.BillingChange {
	mrr := 100.0
	if kind == features.BillingChurn {
		mrr = 0
	}
	return features.BillingChange{AccountID: id, ChangeID: id + kind + at.Format(time.DateOnly), Kind: kind, At: at, MRR: mrr, Seats: 3, Plan: plan}
}

// TestRenewalObservations builds the renewal-anchored dataset of three
// hand-built histories and checks every row and label: observed 5 days
// before each renewal, labelled 1 when the account churns in
// [renewal, next renewal).
func TestRenewalObservations(t *testing.T) {
	histories := []*features.History{
		// Monthly from January 31 of a leap year: renewals on February 29,
		// March 31 and April 30, where it churns. The churn at the
		// renewal is the positive of the row five days before it, not of
		// the row before that, whose window ends at it.
		{AccountID: "jan31", Billing: []features.BillingChange{
			billed("jan31", features.BillingNew, "team-monthly", on(2024, 1, 31)),
			billed("jan31", features.BillingChurn, "team-monthly", on(2024, 4, 30)),
		}},
		// Annual from February 29: anniversaries on February 28 of 2025
		// and 2026; it churns at the second.
		{AccountID: "leap", Billing: []features.BillingChange{
			billed("leap", features.BillingNew, "team-annual", on(2024, 2, 29)),
			billed("leap", features.BillingChurn, "team-annual", on(2026, 2, 28)),
		}},
		// Monthly from March 15 with an expansion between renewals, which
		// does not move them; a churn on May 15 undone by a reactivation
		// within grace, which restarts the subscription on May 20; a churn
		// at its second renewal.
		{AccountID: "mid", Billing: []features.BillingChange{
			billed("mid", features.BillingNew, "team-monthly", on(2024, 3, 15)),
			billed("mid", features.BillingExpansion, "team-monthly", on(2024, 4, 20)),
			billed("mid", features.BillingChurn, "team-monthly", on(2024, 5, 15)),
			billed("mid", features.BillingReactivation, "team-monthly", on(2024, 5, 20)),
			billed("mid", features.BillingChurn, "team-monthly", on(2024, 7, 20)),
		}},
	}
	want := []string{
		"jan31 2024-02-24 0", "jan31 2024-03-26 0", "jan31 2024-04-25 1",
		"leap 2025-02-23 0", "leap 2026-02-23 1",
		"mid 2024-04-10 0", "mid 2024-05-10 0", "mid 2024-06-15 0", "mid 2024-07-15 1",
	}
	task := &dataset.Churn{Renewals: true, Lead: 5 * day, Grace: 14 * day, DataEnd: on(2027, 4, 1)}
	if err := task.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := features.NewBuilder(features.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range histories {
		vs, err := b.Build(h, task.AsOf(h, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			label, keep := task.Label(h, &v)
			if !keep {
				t.Errorf("%s as of %s: dropped", h.AccountID, v.AsOf.Format(time.DateOnly))
				continue
			}
			got = append(got, fmt.Sprintf("%s %s %v", h.AccountID, v.AsOf.Format(time.DateOnly), label))
			// The features agree on the renewal the row looks at.
			if d := v.Value("days_to_renewal"); d != 5 {
				t.Errorf("%s as of %s: days_to_renewal %v, want the lead, 5", h.AccountID, v.AsOf.Format(time.DateOnly), d)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%q\nwant\n%q", got, want)
	}

	// A fixed horizon, bounds and the data's end cut the same schedule.
	bounded := &dataset.Churn{Renewals: true, Lead: 5 * day, Horizon: 10 * day, From: on(2024, 3, 1), To: on(2024, 6, 30), DataEnd: on(2024, 7, 1)}
	if got, want := bounded.AsOf(histories[2], nil), []time.Time{on(2024, 4, 10), on(2024, 5, 10), on(2024, 6, 15)}; !slices.Equal(got, want) {
		t.Errorf("bounded: as-of %v, want %v", got, want)
	}
	// June 15 + 5 + 10 days ends June 30, after a data end of June 29.
	bounded.DataEnd = on(2024, 6, 29)
	if got := bounded.AsOf(histories[2], nil); len(got) != 2 {
		t.Errorf("data end June 29: as-of %v, want April 10 and May 10", got)
	}
	if err := (&dataset.Churn{Lead: 5 * day, DataEnd: on(2024, 7, 1)}).Validate(); err == nil {
		t.Error("a calendar schedule without a horizon validated")
	}
}

func TestVocabulary(t *testing.T) {
	use := func(feature string, at time.Time, count int, seconds float64, errs int) features.UsageEvent {
		return features.UsageEvent{AccountID: "a", UserID: "u", Feature: feature, At: at, Count: count, DurationS: seconds, Errors: errs}
	}
	src := dataset.Memory{
		{AccountID: "a", Usage: []features.UsageEvent{use("chat", on(2024, 1, 1), 5, 0, 0), use("reports", on(2024, 1, 2), 2, 0, 0)}},
		{AccountID: "b", Usage: []features.UsageEvent{use("reports", on(2024, 1, 3), 3, 0, 0), use("api", on(2024, 1, 4), 5, 0, 0),
			use("export", on(2024, 2, 1), 99, 30, 1)}},
	}
	ctx := context.Background()
	for _, tc := range []struct {
		k      int
		before time.Time
		want   []string
		dur    bool
	}{
		// 5 each for api, chat and reports, ties by name; export's volume
		// is after the cut.
		{2, on(2024, 2, 1), []string{"api", "chat"}, false},
		{10, on(2024, 2, 1), []string{"api", "chat", "reports"}, false},
		{1, time.Time{}, []string{"export"}, true},
		{0, time.Time{}, nil, false},
	} {
		cfg, err := dataset.Vocabulary(ctx, src, features.Config{}, dataset.VocabularyOptions{EventFeatures: tc.k, Before: tc.before})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.EventFeatures, tc.want) || cfg.EventDuration != tc.dur || cfg.EventErrors != tc.dur {
			t.Errorf("k %d before %s: %+v, want %v with durations and errors %v", tc.k, tc.before, cfg, tc.want, tc.dur)
		}
	}
	// A configured vocabulary is kept.
	cfg, err := dataset.Vocabulary(ctx, src, features.Config{EventFeatures: []string{"chat"}}, dataset.VocabularyOptions{EventFeatures: 5})
	if err != nil || !slices.Equal(cfg.EventFeatures, []string{"chat"}) {
		t.Errorf("configured vocabulary: %v, %v; want [chat]", cfg.EventFeatures, err)
	}

	// Attributes: values of at least MinAttributeAccounts accounts.
	var accounts dataset.Memory
	for i := range 40 {
		country := map[int]string{0: "US", 1: "US", 2: "IN", 3: "DE"}[i%4]
		if i >= 36 {
			country = fmt.Sprintf("rare%d", i) // one account each
		}
		a := &features.Account{AccountID: fmt.Sprint(i), Attributes: map[string]string{"country": country}}
		if i == 39 {
			a.Attributes = nil
		}
		accounts = append(accounts, &features.History{AccountID: a.AccountID, Account: a})
	}
	cfg, err = dataset.Vocabulary(ctx, accounts, features.Config{Attributes: []string{"country", "channel"},
		AttributeCategories: map[string][]string{"channel": {"web"}}}, dataset.VocabularyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// US 18, IN 9 and DE 9 accounts: only US reaches 10; channel's
	// configured vocabulary stays.
	if got := cfg.AttributeCategories; !slices.Equal(got["country"], []string{"US"}) || !slices.Equal(got["channel"], []string{"web"}) {
		t.Errorf("categories %v, want country [US] and channel [web]", got)
	}
}
