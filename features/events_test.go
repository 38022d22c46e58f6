package features_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

func event(user, feature string, days float64, count int, seconds float64, errs int) *features.UsageEvent {
	return &features.UsageEvent{AccountID: "a1", UserID: user, Feature: feature, At: at(days), Count: count, DurationS: seconds, Errors: errs}
}

// eventConfig has a vocabulary of two features, with durations and errors.
var eventConfig = features.Config{EventFeatures: []string{"reports", "API calls"}, EventDuration: true, EventErrors: true}

// valuesByName returns a vector's values keyed by the catalog's names.
func valuesByName(t *testing.T, cfg features.Config, v features.Vector) map[string]float64 {
	t.Helper()
	fs, err := cfg.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != len(v.Values) {
		t.Fatalf("catalog of %d features, vector of %d values", len(fs), len(v.Values))
	}
	m := map[string]float64{}
	for i, f := range fs {
		m[f.Name] = v.Values[i]
	}
	return m
}

func TestEventFeatures(t *testing.T) {
	h := hist(account("smb", -200), billing("new", "team-monthly", 4, 116, -100),
		event("u1", "reports", -1, 3, 120, 1), event("u2", "reports", -2, 1, 60, 0),
		event("u1", "reports", -40, 2, 0, 0), // the previous 30 days
		event("u1", "API calls", -5, 1, 0, 0),
		event("u3", "chat", -3, 4, 0, 0),       // pooled into the others
		event("u1", "export", -50, 1, 0, 0),    // the others' previous 30 days
		event("u1", "reports", 0.1, 100, 0, 9), // after T: unknown
	)
	b, err := features.NewBuilder(eventConfig)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := b.Build(h, []time.Time{asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := valuesByName(t, eventConfig, vs[0])
	want := map[string]float64{
		// 4 reports events by 2 users, of 9 in all; 2 in the 30 days before.
		"event_reports_events_30d": 4, "event_reports_users_30d": 2, "event_reports_share_30d": 4.0 / 9,
		"event_reports_trend_30d": math.Log(5.0 / 3), "event_reports_days_since": 1, "event_reports_per_seat_30d": 1,
		"event_reports_minutes_30d": 3, "event_reports_errors_30d": 1,
		"event_api_calls_events_30d": 1, "event_api_calls_users_30d": 1, "event_api_calls_share_30d": 1.0 / 9,
		"event_api_calls_trend_30d": math.Log(2), "event_api_calls_days_since": 5, "event_api_calls_per_seat_30d": 0.25,
		"event_api_calls_minutes_30d": 0, "event_api_calls_errors_30d": 0,
		"event_all_other_events_30d": 4, "event_all_other_users_30d": 1, "event_all_other_share_30d": 4.0 / 9,
		"event_all_other_trend_30d": math.Log(5.0 / 2), "event_all_other_days_since": 3, "event_all_other_per_seat_30d": 1,
		"event_all_other_minutes_30d": 0, "event_all_other_errors_30d": 0,
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || math.Abs(g-w) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, g, w)
		}
	}
	if n := len(got) - len(features.FeatureNames()); n != len(want) {
		t.Errorf("%d per-event features, want %d", n, len(want))
	}
	// The fixed catalog is unchanged by the vocabulary.
	plain, err := features.NewBuilder(features.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := plain.Build(h, []time.Time{asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j, name := range features.FeatureNames() {
		if a, b := ref[0].Values[j], vs[0].Values[j]; math.Float64bits(a) != math.Float64bits(b) {
			t.Errorf("%s is %v with the vocabulary, %v without", name, b, a)
		}
	}
}

// TestEventFeaturesMissing checks the NaN cases: no usage in the window,
// no seats, a young account, a family never used.
func TestEventFeaturesMissing(t *testing.T) {
	h := hist(account("smb", -20), event("u1", "reports", -45, 1, 0, 0))
	b, err := features.NewBuilder(eventConfig)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := b.Build(h, []time.Time{asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := valuesByName(t, eventConfig, vs[0])
	for _, name := range []string{"event_reports_share_30d", "event_reports_trend_30d", "event_reports_per_seat_30d", "event_api_calls_days_since"} {
		if !math.IsNaN(got[name]) {
			t.Errorf("%s = %v, want NaN", name, got[name])
		}
	}
	if got["event_reports_days_since"] != 45 || got["event_reports_events_30d"] != 0 {
		t.Errorf("reports: days since %v, events %v; want 45, 0", got["event_reports_days_since"], got["event_reports_events_30d"])
	}
}

// TestEventFeaturesSweep checks that one sweep over many as-of times
// gives the values of building each alone, as users move between days
// and the daily buckets wrap around.
func TestEventFeaturesSweep(t *testing.T) {
	var recs []any
	recs = append(recs, account("smb", -300), billing("new", "team-monthly", 5, 145, -280))
	feats := []string{"reports", "API calls", "chat", "export"}
	for d := -299.0; d < 0; d += 0.9 {
		recs = append(recs, event(fmt.Sprintf("u%d", int(-d)%6), feats[int(-d*7)%4], d, 1+int(-d)%3, -d, int(-d)%2))
	}
	h := hist(recs...)
	var times []time.Time
	for d := -290.0; d <= 0; d += 4.7 {
		times = append(times, at(d))
	}
	b, err := features.NewBuilder(eventConfig)
	if err != nil {
		t.Fatal(err)
	}
	all, err := b.Build(h, times, nil)
	if err != nil {
		t.Fatal(err)
	}
	all = slices.Clone(all)
	fs, _ := eventConfig.Catalog()
	for i, tt := range times {
		one, err := b.Build(h, []time.Time{tt}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j, f := range fs {
			if a, b := all[i].Values[j], one[0].Values[j]; math.Abs(a-b) > 1e-9 || math.IsNaN(a) != math.IsNaN(b) {
				t.Errorf("as of %s: %s is %v in the sweep, %v alone", tt, f.Name, a, b)
			}
		}
	}
}

func TestEventCatalog(t *testing.T) {
	fs, err := eventConfig.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]features.Feature{}
	for _, f := range fs {
		byName[f.Name] = f
	}
	for name, desc := range map[string]string{
		"event_reports_events_30d":    `"reports" events in the last 30 days`,
		"event_api_calls_users_30d":   `Distinct users of "API calls" events in the last 30 days`,
		"event_all_other_share_30d":   "Share of the last 30 days' events that are events of other product features",
		"event_reports_days_since":    `Days since "reports" events were last seen`,
		"event_all_other_errors_30d":  "Errors hit in events of other product features in the last 30 days",
		"event_api_calls_minutes_30d": `Minutes spent in "API calls" events in the last 30 days`,
	} {
		if f, ok := byName[name]; !ok || f.Description != desc || f.Group != features.Usage {
			t.Errorf("%s: %+v, want description %q in group usage", name, f, desc)
		}
	}
	for _, tc := range []struct {
		cfg  features.Config
		want string
	}{
		{features.Config{EventFeatures: []string{"a-b", "a b"}}, `"a-b" and "a b" would both be named event_a_b`},
		{features.Config{EventFeatures: []string{"all other"}}, "would both be named event_all_other"},
		{features.Config{EventFeatures: []string{"x", "x"}}, "repeated"},
	} {
		if _, err := tc.cfg.Catalog(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.cfg.EventFeatures, err, tc.want)
		}
	}
}

// TestEventFeaturesDirect checks the sweep's per-event families against a
// straightforward computation from the events, as of many times, on a
// history with users and features moving between days, several events a
// day, users without an id and a change of seats: the windows are the 30
// (and, before them, 30 more) days before the first midnight at or after
// T, cut at T. Counts up to 40 an event make windows of hundreds of
// events, past the table of small trends. Counts, users, shares, trends,
// per-seat rates and errors are sums and ratios of whole numbers, so they
// must match exactly; minutes and days since only to rounding.
func TestEventFeaturesDirect(t *testing.T) {
	for _, maxCount := range []int{4, 40} {
		t.Run(fmt.Sprintf("counts below %d", maxCount), func(t *testing.T) { testEventFeaturesDirect(t, maxCount) })
	}
}

func testEventFeaturesDirect(t *testing.T, maxCount int) {
	rng := rand.New(rand.NewPCG(11, uint64(maxCount)))
	feats := []string{"reports", "API calls", "chat", "export", "billing"}
	recs := []any{account("smb", -400), billing("new", "team-monthly", 5, 145, -390), billing("expansion", "team-monthly", 9, 261, -150)}
	var evs []*features.UsageEvent
	for d := -389.0; d < 20; d += rng.ExpFloat64() * 0.7 {
		user := fmt.Sprintf("u%d", rng.IntN(8))
		if rng.IntN(10) == 0 {
			user = ""
		}
		e := event(user, feats[rng.IntN(len(feats))], d, rng.IntN(maxCount), math.Round(rng.Float64()*300), rng.IntN(3))
		evs = append(evs, e)
		recs = append(recs, e)
	}
	h := hist(recs...)
	var times []time.Time
	for d := -380.0; d <= 20; d += rng.Float64() * 9 {
		times = append(times, at(d))
	}
	times = append(times, times[len(times)-1]) // the same time twice
	b, err := features.NewBuilder(eventConfig)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := b.Build(h, times, nil)
	if err != nil {
		t.Fatal(err)
	}
	created := at(-400)
	day := 24 * time.Hour
	for i, tt := range times {
		got := valuesByName(t, eventConfig, vs[i])
		end := tt.Truncate(day)
		if !end.Equal(tt) {
			end = end.Add(day)
		}
		start30, start60 := end.Add(-30*day), end.Add(-60*day)
		seats := 5.0 // the expansion at -150 days is known after it
		if tt.After(at(-150)) {
			seats = 9
		}
		type family struct {
			count, prev, seconds, errors float64
			users                        map[string]bool
			last                         time.Time
		}
		fam := map[string]*family{}
		var total float64
		for _, k := range []string{"reports", "api_calls", features.OtherEvents} {
			fam[k] = &family{users: map[string]bool{}}
		}
		for _, e := range evs {
			if !e.At.Before(tt) {
				continue
			}
			k := features.OtherEvents
			switch e.Feature {
			case "reports":
				k = "reports"
			case "API calls":
				k = "api_calls"
			}
			f := fam[k]
			f.last = e.At
			n := float64(max(e.Count, 1))
			switch {
			case !e.At.Before(start30):
				f.count += n
				f.seconds += e.DurationS
				f.errors += float64(e.Errors)
				total += n
				if e.UserID != "" {
					f.users[e.UserID] = true
				}
			case !e.At.Before(start60):
				f.prev += n
			}
		}
		for k, f := range fam {
			p := "event_" + k + "_"
			want := map[string]float64{
				"events_30d": f.count, "users_30d": float64(len(f.users)), "share_30d": f.count / total,
				"trend_30d": math.NaN(), "days_since": math.NaN(), "per_seat_30d": f.count / seats,
				"minutes_30d": f.seconds / 60, "errors_30d": f.errors,
			}
			if !created.After(start60) {
				want["trend_30d"] = 0
				if f.count != f.prev {
					want["trend_30d"] = math.Log((f.count + 1) / (f.prev + 1))
				}
			}
			if !f.last.IsZero() {
				want["days_since"] = tt.Sub(f.last).Hours() / 24
			}
			for m, w := range want {
				g := got[p+m]
				tol := 0.0
				if m == "minutes_30d" || m == "days_since" {
					tol = 1e-9 * math.Max(1, math.Abs(w))
				}
				if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > tol {
					t.Errorf("as of %s: %s%s = %v, want %v", tt.Format(time.RFC3339), p, m, g, w)
				}
			}
		}
	}
}
