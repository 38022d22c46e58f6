package features_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

// asOf is the time the hand-built histories are looked at from. Offsets
// are in days relative to it: -1 is a day before, 0.5 is noon after.
var asOf = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

func at(days float64) time.Time { return asOf.Add(time.Duration(days * float64(24*time.Hour))) }

// unset marks an optional time that is not set.
var unset = math.NaN()

func optAt(days float64) time.Time {
	if math.IsNaN(days) {
		return time.Time{}
	}
	return at(days)
}

func account(segment string, createdDays float64) *features.Account {
	return &features.Account{AccountID: "a1", Segment: segment, CreatedAt: at(createdDays)}
}

func trialAccount(startDays float64) *features.Account {
	a := account("smb", startDays)
	a.TrialStartedAt = at(startDays)
	a.TrialEndsAt = at(startDays + 14)
	return a
}

func use(user, feature string, days float64) *features.UsageEvent {
	return &features.UsageEvent{AccountID: "a1", UserID: user, Feature: feature, At: at(days), Count: 1}
}

func ticket(opened, responded, resolved float64, priority string, csat int) *features.Ticket {
	return &features.Ticket{AccountID: "a1", OpenedAt: at(opened), FirstResponseAt: optAt(responded),
		ResolvedAt: optAt(resolved), Priority: priority, CSAT: csat}
}

func escalation(direction string, days float64) *features.Escalation {
	return &features.Escalation{AccountID: "a1", Direction: direction, Severity: "high", At: at(days)}
}

func survey(kind string, score int, days float64) *features.SurveyResponse {
	return &features.SurveyResponse{AccountID: "a1", Kind: kind, Score: score, At: at(days)}
}

func billing(kind, plan string, seats int, mrr, days float64) *features.BillingChange {
	return &features.BillingChange{AccountID: "a1", Kind: kind, Plan: plan, Seats: seats, MRR: mrr, At: at(days)}
}

// hist builds a history of account a1 from records, putting usage in time
// order as the store does. The other tables are left in the given order,
// which Build accepts.
func hist(recs ...any) *features.History {
	h := &features.History{AccountID: "a1"}
	for _, r := range recs {
		if err := h.Add(r); err != nil {
			panic(err)
		}
	}
	slices.SortStableFunc(h.Usage, func(a, b features.UsageEvent) int { return a.At.Compare(b.At) })
	return h
}

// featureCases holds at least one case per feature. Each builds a small
// history around asOf whose expected value is worked out in the comment,
// including records at or after asOf that must not count.
var featureCases = []struct {
	feature string
	cfg     features.Config
	h       *features.History
	want    float64
}{
	// a, b in the window; c 31 days back is out; d at T is not yet known.
	{"features_used_30d", features.Config{}, hist(use("u1", "a", -1), use("u1", "b", -5), use("u1", "a", -10),
		use("u1", "c", -31), use("u1", "d", 0)), 2},
	// a, b, c ever used (c 100 days back, past the daily buckets) of 4.
	{"feature_adoption", features.Config{CatalogueSize: 4}, hist(use("u1", "a", -1), use("u1", "b", -5),
		use("u1", "c", -100), use("u1", "d", 0.1)), 0.75},
	// Days -1 (twice), -3, and -30 (the window's first instant); not -30 minus a second.
	{"active_days_30d", features.Config{}, hist(use("u1", "a", -1+10.0/24), use("u2", "a", -1+15.0/24),
		use("u1", "a", -3), use("u1", "a", -30), use("u1", "a", -30-1.0/86400)), 3},
	// u1 and u2 in the window; u3 only 40 days back; a blank user is nobody.
	{"active_users_30d", features.Config{}, hist(use("u1", "a", -2), use("u2", "a", -2), use("u1", "a", -40),
		use("u3", "a", -40), use("", "a", -1)), 2},
	// User-days: u1 on days -1 and -2, u2 on -1: 3/30 per day over 2 users.
	{"dau_mau_30d", features.Config{}, hist(use("u1", "a", -1), use("u1", "b", -1.5), use("u1", "a", -2),
		use("u2", "a", -1)), 3.0 / 30 / 2},
	// 3 active users on 4 paid seats; the 8 seats bought at T do not count.
	{"seat_utilisation_30d", features.Config{}, hist(billing("new", "team-monthly", 4, 116, -100),
		billing("expansion", "team-monthly", 8, 232, 0), use("u1", "a", -1), use("u2", "a", -1), use("u3", "a", -1)), 0.75},
	// The latest use before T was 36 hours before.
	{"days_since_last_use", features.Config{}, hist(use("u1", "a", -10), use("u1", "a", -1.5), use("u1", "a", 0.2)), 1.5},
	// Last 30 days: u1 on 3 days; the 30 before: u1 on 1 day. ln((3+1)/(1+1)).
	{"usage_trend_30d", features.Config{}, hist(account("smb", -200), use("u1", "a", -1), use("u1", "a", -2),
		use("u1", "a", -3), use("u1", "a", -45), use("u1", "a", -70)), math.Log(2)},
	// reports in the window; api only 40 days back; other is not key.
	{"key_features_used_30d", features.Config{KeyFeatures: []string{"reports", "api"}}, hist(use("u1", "reports", -2),
		use("u1", "api", -40), use("u1", "other", -1)), 1},
	// User-days in the last 14 days: u1 on -1 and -2, u2 on -1; -20 is out,
	// and so is use at T. 3/14 a day on 4 seats.
	{"dau_per_seat_14d", features.Config{}, hist(billing("new", "team-monthly", 4, 116, -100), use("u1", "a", -1),
		use("u1", "a", -2), use("u2", "a", -1), use("u1", "a", -20), use("u1", "a", 0.1)), 3.0 / 14 / 4},
	// u1 on -1 and -59, u2 on -1; -61 is out. 3/60 a day on 4 seats.
	{"dau_per_seat_60d", features.Config{}, hist(billing("new", "team-monthly", 4, 116, -100), use("u1", "a", -1),
		use("u2", "a", -1), use("u1", "a", -59), use("u1", "a", -61)), 3.0 / 60 / 4},
	// 2 user-days in the last 14 (DAU 2/14), 6 in the last 60 (DAU 6/60).
	{"usage_trend_14_60d", features.Config{}, hist(account("smb", -200), use("u1", "a", -1), use("u1", "a", -2),
		use("u1", "a", -30), use("u1", "a", -40), use("u1", "a", -50), use("u1", "a", -59)),
		math.Log((2.0/14 + 0.1) / (6.0/60 + 0.1))},
	// Last 7 days: u1 on -1 and -3, u2 on -1 (3). The 4 weeks before: -10,
	// -20, -30 and -35, a weekly average of 1; -36 is out. ln((3+1)/(1+1)).
	{"usage_week_vs_month", features.Config{}, hist(account("smb", -200), use("u1", "a", -1), use("u2", "a", -1),
		use("u1", "a", -3), use("u1", "a", -10), use("u1", "a", -20), use("u1", "a", -30), use("u1", "a", -35),
		use("u1", "a", -36)), math.Log(2)},

	// Opened 1 and 29 days back; not 31 days back, nor at T.
	{"tickets_30d", features.Config{}, hist(ticket(-1, unset, unset, "low", 0), ticket(-29, unset, unset, "low", 0),
		ticket(-31, unset, unset, "low", 0), ticket(0, unset, unset, "low", 0)), 2},
	// Opened 1 and 89 days back; not 91.
	{"tickets_90d", features.Config{}, hist(ticket(-1, unset, unset, "low", 0), ticket(-89, unset, unset, "low", 0),
		ticket(-91, unset, unset, "low", 0)), 2},
	// 2 tickets in 90 days on 4 seats.
	{"tickets_per_seat_90d", features.Config{}, hist(billing("new", "team-monthly", 4, 116, -100),
		ticket(-1, unset, unset, "low", 0), ticket(-50, unset, unset, "low", 0)), 0.5},
	// Open at T: the one resolved after T and the unresolved one; not the
	// one resolved before T, nor the one opened after T.
	{"open_tickets", features.Config{}, hist(ticket(-10, unset, -5, "low", 0), ticket(-10, unset, 1, "low", 0),
		ticket(-1, unset, unset, "low", 0), ticket(0.1, unset, unset, "low", 0)), 2},
	// Responses after 2h and 6h; the one answered after T is unknown.
	{"first_response_hours_90d", features.Config{}, hist(ticket(-10, -10+2.0/24, unset, "low", 0),
		ticket(-5, -5+6.0/24, unset, "low", 0), ticket(-1.0/24, 1.0/24, unset, "low", 0)), 4},
	// Resolved in 10h within the window; one resolved 100 days back and one
	// resolved after T do not count.
	{"resolution_hours_90d", features.Config{}, hist(ticket(-10, unset, -10+10.0/24, "low", 0),
		ticket(-101, unset, -100, "low", 0), ticket(-2, unset, 1, "low", 0)), 10},
	// Ticket rating 5 and survey 3; the rating given on resolution after T
	// is unknown.
	{"csat_90d", features.Config{}, hist(ticket(-4, unset, -3, "low", 5), ticket(-2, unset, 1, "low", 1),
		survey("csat", 3, -1)), 4},
	// One urgent ticket of four in 90 days; the urgent one at -100 is out.
	{"urgent_share_90d", features.Config{}, hist(ticket(-1, unset, unset, "urgent", 0), ticket(-2, unset, unset, "low", 0),
		ticket(-3, unset, unset, "high", 0), ticket(-4, unset, unset, "normal", 0), ticket(-100, unset, unset, "urgent", 0)), 0.25},
	// 2 tickets in 30 days, 4 in 180 (-190 is out): a monthly average of
	// 4·30/180 = 2/3. ln((2+1)/(2/3+1)) = ln(1.8).
	{"ticket_spike_30_180d", features.Config{}, hist(account("smb", -400), ticket(-1, unset, unset, "low", 0),
		ticket(-2, unset, unset, "low", 0), ticket(-100, unset, unset, "low", 0), ticket(-170, unset, unset, "low", 0),
		ticket(-190, unset, unset, "low", 0), ticket(0, unset, unset, "low", 0)), math.Log(1.8)},
	// Breaches of the default targets: urgent answered in 2h (target 1h),
	// low in 30h (24h), and low opened 91 days back but answered in 36h,
	// inside the window. Not: high in 3h (4h), normal in 9h 100 days back,
	// urgent answered after T.
	{"sla_breaches_90d", features.Config{}, hist(ticket(-2, -2+2.0/24, unset, "urgent", 0), ticket(-5, -5+30.0/24, unset, "low", 0),
		ticket(-91, -89.5, unset, "low", 0), ticket(-3, -3+3.0/24, unset, "high", 0), ticket(-100, -100+9.0/24, unset, "normal", 0),
		ticket(-0.5, 0.5, unset, "urgent", 0)), 3},
	// Negative 10 days back; not 95 days back; positives are not counted.
	{"negative_escalations_90d", features.Config{}, hist(escalation("negative", -10), escalation("negative", -95),
		escalation("positive", -1)), 1},
	{"positive_escalations_90d", features.Config{}, hist(escalation("positive", -1), escalation("positive", -2),
		escalation("negative", -3), escalation("positive", 0)), 2},
	// Latest negative before T was 4 days back.
	{"days_since_negative_escalation", features.Config{}, hist(escalation("negative", -20), escalation("negative", -4),
		escalation("positive", -1), escalation("negative", 1)), 4},

	// 9, then 4; the 10 at T is not known yet.
	{"nps_latest", features.Config{}, hist(survey("nps", 9, -60), survey("nps", 4, -10), survey("nps", 10, 0)), 4},
	// A 6 is a detractor.
	{"nps_detractor", features.Config{}, hist(survey("nps", 9, -60), survey("nps", 6, -10)), 1},
	// 9 then 4: -5; the CSAT survey is not an NPS answer.
	{"nps_change", features.Config{}, hist(survey("nps", 9, -60), survey("csat", 2, -30), survey("nps", 4, -10)), -5},
	// The wave 10 days back, 4 and 8; not the 9 100 days back, the CSAT
	// answer, or the 10 at T.
	{"nps_mean_90d", features.Config{}, hist(survey("nps", 9, -100), survey("nps", 4, -10), survey("nps", 8, -10),
		survey("csat", 2, -5), survey("nps", 10, 0)), 6},

	// 150 after the expansion; the contraction at T is not known yet.
	{"mrr", features.Config{}, hist(billing("new", "team-monthly", 4, 100, -100), billing("expansion", "team-monthly", 6, 150, -10),
		billing("contraction", "team-monthly", 2, 50, 0)), 150},
	// Customer since the first billing change, 100 days back.
	{"tenure_days", features.Config{}, hist(billing("new", "team-monthly", 4, 100, -100), billing("expansion", "team-monthly", 6, 150, -10)), 100},
	// Monthly plan subscribed 2024-03-15: next billing date 2024-07-15.
	{"days_to_renewal", features.Config{}, hist(&features.BillingChange{AccountID: "a1", Kind: "new", Plan: "team-monthly", Seats: 1, MRR: 29,
		At: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)}), 14},
	// Annual plan subscribed 2023-08-10, expanded since: anniversary 2024-08-10.
	{"days_to_renewal", features.Config{}, hist(&features.BillingChange{AccountID: "a1", Kind: "new", Plan: "team-annual", Seats: 1, MRR: 25,
		At: time.Date(2023, 8, 10, 0, 0, 0, 0, time.UTC)}, billing("expansion", "team-annual", 2, 50, -30)), 40},
	// 99 at T-90d (the change 120 days back), 199 now: ln(200/100).
	{"mrr_change_90d", features.Config{}, hist(billing("new", "team-monthly", 4, 99, -120), billing("expansion", "team-monthly", 8, 199, -10)), math.Log(2)},
	// Contractions 10 and 170 days back; not 200.
	{"contractions_180d", features.Config{}, hist(billing("new", "team-monthly", 9, 261, -300), billing("contraction", "team-monthly", 8, 232, -200),
		billing("contraction", "team-monthly", 7, 203, -170), billing("contraction", "team-monthly", 6, 174, -10)), 2},
	// team-annual is code 4 of DefaultPlans.
	{"plan", features.Config{}, hist(billing("new", "team-annual", 4, 99, -20)), 4},
	{"seats", features.Config{}, hist(billing("new", "team-monthly", 4, 116, -20), billing("expansion", "team-monthly", 12, 348, -2)), 12},

	// Started 5.5 days back.
	{"trial_day", features.Config{}, hist(trialAccount(-5.5)), 5.5},
	// Started 5 days back, of 14.
	{"trial_days_left", features.Config{}, hist(trialAccount(-5)), 9},
	// u1 and u2 so far; u3 arrives after T.
	{"trial_users", features.Config{}, hist(trialAccount(-5), use("u1", "a", -4), use("u2", "a", -3), use("u3", "a", 0.1)), 2},
	// reports and api activated (api twice); other is not key.
	{"trial_key_features", features.Config{KeyFeatures: []string{"reports", "api"}}, hist(trialAccount(-5), use("u1", "reports", -4),
		use("u1", "api", -3), use("u2", "api", -2), use("u1", "other", -1)), 2},
	// Days -3 and -2 since the trial started 5 days back; -7 was before it.
	{"trial_active_days", features.Config{}, hist(trialAccount(-5), use("u1", "a", -7), use("u1", "a", -3), use("u1", "b", -2.5),
		use("u1", "a", -2)), 2},

	// enterprise is code 2 of DefaultSegments.
	{"segment", features.Config{}, hist(account("enterprise", -400)), 2},
}

func TestFeatures(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range featureCases {
		covered[tc.feature] = true
		t.Run(tc.feature, func(t *testing.T) {
			b, err := features.NewBuilder(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			vs, err := b.Build(tc.h, []time.Time{asOf}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := vs[0].Value(tc.feature); math.Abs(got-tc.want) > 1e-9 || math.IsNaN(got) {
				t.Errorf("%s = %v, want %v", tc.feature, got, tc.want)
			}
		})
	}
	for _, name := range features.FeatureNames() {
		if !covered[name] {
			t.Errorf("feature %s has no test case", name)
		}
	}
}

// TestMissing checks which features are NaN for an account that has an
// accounts row and nothing else, under the zero Config: exactly those
// whose catalog entry documents a missing case that applies.
func TestMissing(t *testing.T) {
	b, err := features.NewBuilder(features.Config{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := b.Build(hist(account("smb", -400)), []time.Time{asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{
		"features_used_30d": true, "active_days_30d": true, "active_users_30d": true, "usage_trend_30d": true,
		"usage_trend_14_60d": true, "usage_week_vs_month": true,
		"tickets_30d": true, "tickets_90d": true, "open_tickets": true, "ticket_spike_30_180d": true, "sla_breaches_90d": true,
		"negative_escalations_90d": true, "positive_escalations_90d": true, "contractions_180d": true, "segment": true,
	}
	catalog, err := features.Config{}.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range catalog {
		got := vs[0].Values[i]
		switch {
		case present[f.Name] && math.IsNaN(got):
			t.Errorf("%s is NaN, want a value", f.Name)
		case !present[f.Name] && !math.IsNaN(got):
			t.Errorf("%s = %v, want NaN (%s)", f.Name, got, f.Missing)
		case !present[f.Name] && f.Missing == "":
			t.Errorf("%s can be NaN but its catalog entry does not say when", f.Name)
		}
	}
}

// TestBuildSweep checks one sweep over several as-of times against
// building each as-of time on its own: the running windows must agree
// with fresh ones.
func TestBuildSweep(t *testing.T) {
	cfg := features.Config{CatalogueSize: 10, KeyFeatures: []string{"k1"}}
	var recs []any
	recs = append(recs, trialAccount(-200), billing("new", "team-monthly", 5, 145, -180),
		billing("contraction", "team-monthly", 3, 87, -60), billing("churn", "team-monthly", 0, 0, -5))
	for d := -199.0; d < 0; d += 1.7 {
		recs = append(recs, use(fmt.Sprintf("u%d", int(-d)%7), fmt.Sprintf("f%d", int(-d)%5), d))
		if int(-d)%11 == 0 {
			recs = append(recs, use("u1", "k1", d+0.3), ticket(d, d+0.2, d+3, "urgent", 4), survey("nps", int(-d)%11, d))
		}
		if int(-d)%23 == 0 {
			recs = append(recs, escalation("negative", d), escalation("positive", d+1))
		}
	}
	h := hist(recs...)
	var times []time.Time
	for d := -190.0; d <= 0; d += 3.3 {
		times = append(times, at(d))
	}
	b, err := features.NewBuilder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	all, err := b.Build(h, times, nil)
	if err != nil {
		t.Fatal(err)
	}
	all = slices.Clone(all)
	for i, tt := range times {
		one, err := b.Build(h, []time.Time{tt}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j, name := range features.FeatureNames() {
			if a, b := all[i].Values[j], one[0].Values[j]; math.Float64bits(a) != math.Float64bits(b) {
				t.Errorf("as of %s: %s is %v in the sweep, %v alone", tt, name, a, b)
			}
		}
	}
}

func TestBuildUnordered(t *testing.T) {
	b, err := features.NewBuilder(features.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := hist(use("u1", "a", -2))
	h.Usage = append(h.Usage, *use("u1", "a", -3))
	if _, err := b.Build(h, []time.Time{asOf}, nil); !errors.Is(err, features.ErrUnordered) {
		t.Errorf("usage out of order: error %v, want ErrUnordered", err)
	}
	if _, err := b.Build(hist(), []time.Time{asOf, at(-1)}, nil); !errors.Is(err, features.ErrUnordered) {
		t.Errorf("as-of times out of order: error %v, want ErrUnordered", err)
	}
}

// TestBuildAllocations checks that a builder that has seen an account
// builds it again without allocating.
func TestBuildAllocations(t *testing.T) {
	b, err := features.NewBuilder(features.Config{KeyFeatures: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	h := hist(trialAccount(-30), use("u1", "a", -20), use("u2", "b", -10), use("u1", "a", -1),
		ticket(-5, -4, -3, "urgent", 5), survey("nps", 7, -2), billing("new", "team-annual", 3, 70, -15))
	times := []time.Time{at(-25), at(-10), asOf}
	vs, err := b.Build(h, times, nil)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		vs, err = b.Build(h, times, vs)
	})
	if err != nil || allocs != 0 {
		t.Errorf("Build allocated %v times per run (err %v), want 0", allocs, err)
	}
}

func TestPayingInTrial(t *testing.T) {
	b, err := features.NewBuilder(features.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		h               *features.History
		paying, inTrial bool
	}{
		{"customer", hist(account("smb", -400), billing("new", "team-monthly", 2, 58, -300)), true, false},
		{"churned", hist(account("smb", -400), billing("new", "team-monthly", 2, 58, -300), billing("churn", "team-monthly", 0, 58, -3)), false, false},
		{"reactivated", hist(billing("new", "team-monthly", 2, 58, -300), billing("churn", "team-monthly", 0, 0, -30),
			billing("reactivation", "team-monthly", 1, 29, -2)), true, false},
		{"trial", hist(trialAccount(-3)), false, true},
		{"trial ran out", hist(trialAccount(-20)), false, false},
		{"trial converted", hist(trialAccount(-10), billing("new", "team-monthly", 2, 58, -1)), true, false},
		{"trial converts after T", hist(trialAccount(-10), billing("new", "team-monthly", 2, 58, 1)), false, true},
		{"no records", hist(), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := b.Build(tt.h, []time.Time{asOf}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := vs[0].Paying(); got != tt.paying {
				t.Errorf("Paying() = %v, want %v", got, tt.paying)
			}
			if got := vs[0].InTrial(); got != tt.inTrial {
				t.Errorf("InTrial() = %v, want %v", got, tt.inTrial)
			}
		})
	}
}
