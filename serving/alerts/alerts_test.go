package alerts

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

var asOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// usage returns one usage event of count uses daysAgo days before asOf.
func usage(daysAgo float64, count int) features.UsageEvent {
	return features.UsageEvent{AccountID: "a1", Feature: "f", Count: count, At: asOf.Add(-time.Duration(daysAgo * float64(day)))}
}

func ticket(daysAgo float64) features.Ticket {
	return features.Ticket{AccountID: "a1", Priority: "normal", OpenedAt: asOf.Add(-time.Duration(daysAgo * float64(day)))}
}

func TestKinds(t *testing.T) {
	paying := &features.Account{AccountID: "a1", Owner: "rep-1", RenewalAt: asOf.Add(30 * day)}
	trial := &features.Account{AccountID: "a1", TrialStartedAt: asOf.Add(-9 * day), TrialEndsAt: asOf.Add(5 * day)}
	steady := func() []features.UsageEvent {
		var u []features.UsageEvent
		for d := 1; d <= 35; d++ {
			u = append(u, usage(float64(d)-0.5, 10))
		}
		return u
	}
	dropped := steady()[7:] // nothing in the last 7 days
	tests := []struct {
		name string
		obs  Observation
		want []string
	}{
		{"quiet", Observation{History: &features.History{Account: paying, Usage: steady()}}, nil},
		{"band drop and risk jump in the book's top", Observation{History: &features.History{Account: paying},
			Churn: &ScoreChange{Probability: 0.5, Previous: 0.2, Band: "red", PreviousBand: "green", TopShare: 0.01, BaseRate: 0.05}},
			[]string{"band_drop", "risk_jump", "renewal_at_risk"}},
		{"a low probability at the top of a calm book", Observation{History: &features.History{Account: paying},
			Churn: &ScoreChange{Probability: 0.12, Previous: 0.05, Band: "red", PreviousBand: "red", TopShare: 0.01, BaseRate: 0.02}},
			[]string{"risk_jump", "renewal_at_risk"}},
		{"a risk that doubled outside the book's top", Observation{History: &features.History{Account: paying},
			Churn: &ScoreChange{Probability: 0.04, Previous: 0.02, Band: "yellow", PreviousBand: "yellow", TopShare: 0.3, BaseRate: 0.03}}, nil},
		{"an unknown book", Observation{History: &features.History{Account: paying},
			Churn: &ScoreChange{Probability: 0.5, Previous: 0.2, Band: "red", PreviousBand: "red", TopShare: math.NaN()}}, nil},
		{"band rise", Observation{History: &features.History{},
			Churn: &ScoreChange{Probability: 0.1, Previous: 0.2, Band: "green", PreviousBand: "yellow"}}, nil},
		{"first score", Observation{History: &features.History{},
			Churn: &ScoreChange{Probability: 0.9, Previous: math.NaN(), Band: "red"}}, nil},
		{"usage drop", Observation{History: &features.History{Usage: dropped}}, []string{"usage_drop"}},
		{"usage drop below baseline", Observation{History: &features.History{Usage: []features.UsageEvent{usage(20, 10)}}}, nil},
		{"ticket spike", Observation{History: &features.History{Tickets: []features.Ticket{ticket(1), ticket(2), ticket(3), ticket(20)}}},
			[]string{"ticket_spike"}},
		{"tickets as usual", Observation{History: &features.History{Tickets: []features.Ticket{ticket(1), ticket(2), ticket(3),
			ticket(10), ticket(11), ticket(12), ticket(13), ticket(20), ticket(21), ticket(22), ticket(23)}}}, nil},
		{"negative escalation", Observation{History: &features.History{Escalations: []features.Escalation{
			{EscalationID: "e1", Direction: "negative", Severity: "high", At: asOf.Add(-time.Hour)}}}},
			[]string{"negative_escalation"}},
		{"old or mild escalation", Observation{History: &features.History{Escalations: []features.Escalation{
			{EscalationID: "e1", Direction: "negative", Severity: "high", At: asOf.Add(-4 * day)},
			{EscalationID: "e2", Direction: "negative", Severity: "low", At: asOf.Add(-time.Hour)},
			{EscalationID: "e3", Direction: "positive", Severity: "high", At: asOf.Add(-time.Hour)}}}}, nil},
		{"detractor", Observation{History: &features.History{Surveys: []features.SurveyResponse{
			{Kind: "nps", Score: 9, At: asOf.Add(-20 * day)}, {Kind: "nps", Score: 3, At: asOf.Add(-2 * day)}}}},
			[]string{"nps_detractor"}},
		{"detractor answered again", Observation{History: &features.History{Surveys: []features.SurveyResponse{
			{Kind: "nps", Score: 3, At: asOf.Add(-20 * day)}, {Kind: "nps", Score: 9, At: asOf.Add(-2 * day)},
			{Kind: "nps", Score: 0, At: asOf.Add(day)}}}}, nil},
		{"renewal far", Observation{History: &features.History{Account: &features.Account{RenewalAt: asOf.Add(90 * day)}},
			Churn: &ScoreChange{Probability: 0.6, Previous: 0.6, Band: "red", PreviousBand: "red"}}, nil},
		{"became PQL", Observation{History: &features.History{Account: trial, Usage: []features.UsageEvent{usage(0.5, 1)}},
			Conversion: &ScoreChange{Probability: 0.7, PQL: true}}, []string{"trial_became_pql"}},
		{"still PQL", Observation{History: &features.History{Account: trial, Usage: []features.UsageEvent{usage(0.5, 1)}},
			Conversion: &ScoreChange{Probability: 0.7, PQL: true, PreviousPQL: true}}, nil},
		{"trial going cold", Observation{History: &features.History{Account: trial, Usage: []features.UsageEvent{usage(8, 1)}}},
			[]string{"trial_going_cold"}},
		{"trial too young to be cold", Observation{History: &features.History{Account: &features.Account{
			TrialStartedAt: asOf.Add(-2 * day), TrialEndsAt: asOf.Add(12 * day)}}}, nil},
	}
	rules := DefaultRules()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.obs.AsOf = asOf
			var got []string
			for _, f := range rules.Evaluate(&tc.obs, false) {
				got = append(got, f.Rule.Name)
				if f.Message == "" {
					t.Errorf("%s fired without a message", f.Rule.Name)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("fired %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRelativeThresholds(t *testing.T) {
	c := &ScoreChange{Probability: 0.12, TopShare: 0.04, BaseRate: 0.03}
	for _, tc := range []struct {
		params map[string]float64
		want   bool
	}{
		{map[string]float64{"top_percent": 5}, true},
		{map[string]float64{"top_percent": 3}, false},
		{map[string]float64{"base_rate_multiple": 4}, true},
		{map[string]float64{"base_rate_multiple": 5}, false},
		{map[string]float64{"min_probability": 0.3}, false},
		{map[string]float64{"top_percent": 5, "base_rate_multiple": 3, "min_probability": 0.1}, true},
		{map[string]float64{}, true},
	} {
		if got := riskyInBook(tc.params, c); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.params, got, tc.want)
		}
	}
}

// TestBandThreshold checks a rule's band: a renewal at risk that fires
// for a red account in the book's riskiest 1% does not for a yellow one
// when the rule asks for red, and does for both when it asks for yellow.
func TestBandThreshold(t *testing.T) {
	renewing := &features.History{Account: &features.Account{RenewalAt: asOf.Add(20 * day)}}
	for _, tc := range []struct {
		rule, band string
		want       bool
	}{
		{"", "yellow", true}, {"", "red", true},
		{"red", "yellow", false}, {"red", "red", true},
		{"yellow", "green", false}, {"yellow", "yellow", true}, {"yellow", "red", true},
	} {
		rules, err := DefaultRules().Merge(Rules{{Name: "renewal_at_risk", Band: tc.rule}})
		if err != nil {
			t.Fatal(err)
		}
		o := &Observation{AsOf: asOf, History: renewing,
			Churn: &ScoreChange{Probability: 0.2, Previous: 0.2, Band: tc.band, PreviousBand: tc.band, TopShare: 0.005}}
		fired := false
		for _, f := range rules.Evaluate(o, false) {
			fired = fired || f.Rule.Name == "renewal_at_risk"
		}
		if fired != tc.want {
			t.Errorf("rule band %q, account %s: fired %v, want %v", tc.rule, tc.band, fired, tc.want)
		}
	}
	for _, tc := range []struct {
		rule Rule
		err  string
	}{
		{Rule{Name: "renewal_at_risk", Band: "purple"}, `alert rule renewal_at_risk: band "purple" is not yellow or red`},
		{Rule{Name: "usage_drop", Band: "red"}, "alert rule usage_drop: kind usage_drop takes no band"},
	} {
		if _, err := DefaultRules().Merge(Rules{tc.rule}); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: error %v, want %q", tc.rule, err, tc.err)
		}
	}
}

func TestSeverityAndSignalTime(t *testing.T) {
	rules := DefaultRules()
	for _, tc := range []struct{ band, want string }{{"yellow", "medium"}, {"red", "high"}} {
		o := &Observation{AsOf: asOf, History: &features.History{},
			Churn: &ScoreChange{Probability: 0.1, Previous: 0.1, Band: tc.band, PreviousBand: "green", TopShare: 0.04}}
		fs := rules.Evaluate(o, false)
		if len(fs) != 1 || fs[0].Severity != tc.want || !fs[0].At.Equal(asOf) {
			t.Errorf("band drop to %s: %+v, want one firing of severity %s at the as-of time", tc.band, fs, tc.want)
		}
	}
	at := asOf.Add(-2 * day)
	o := &Observation{AsOf: asOf, History: &features.History{Surveys: []features.SurveyResponse{{Kind: "nps", Score: 2, At: at}}}}
	if fs := rules.Evaluate(o, false); len(fs) != 1 || !fs[0].At.Equal(at) {
		t.Errorf("detractor: %+v, want one firing at the answer's time %v", fs, at)
	}
	if got := fmt.Sprint(rules.TrialRules()); got != "[trial_became_pql trial_going_cold]" {
		t.Errorf("trial rules %s", got)
	}
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		name, yaml, err string
		check           func(Rules) error
	}{
		{"empty keeps defaults", "", "", func(rs Rules) error {
			if len(rs) != len(kinds) {
				return fmt.Errorf("%d rules, want %d", len(rs), len(kinds))
			}
			return nil
		}},
		{"override and add", `
rules:
  - name: usage_drop
    params: {drop: 0.7}
  - name: risk_jump
    disabled: true
  - name: big_risk_jump
    kind: risk_jump
    severity: critical
    cooldown: 24h
    params: {min_increase: 0.4}
`, "", func(rs Rules) error {
			byName := map[string]Rule{}
			for _, r := range rs {
				byName[r.Name] = r
			}
			u, rj, big := byName["usage_drop"], byName["risk_jump"], byName["big_risk_jump"]
			if u.Params["drop"] != 0.7 || u.Params["min_weekly_baseline"] != 20 || u.Cooldown != 336*time.Hour {
				return fmt.Errorf("usage_drop = %+v", u)
			}
			if !rj.Disabled || big.Kind != "risk_jump" || big.Params["min_increase"] != 0.4 || big.Cooldown != 24*time.Hour {
				return fmt.Errorf("risk_jump = %+v, big_risk_jump = %+v", rj, big)
			}
			return nil
		}},
		{"unknown kind", "rules: [{name: nope}]", `unknown kind "nope"`, nil},
		{"unknown parameter", "rules: [{name: usage_drop, params: {dorp: 1}}]", `no parameter "dorp"`, nil},
		{"bad yaml", "rules: {", "reading alert rules", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := ParseRules(strings.NewReader(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.check(rs); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	w := Webhook{Backoff: time.Second, MaxBackoff: 10 * time.Second}
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 30: 10 * time.Second} {
		if got := w.backoff(attempts); got != want {
			t.Errorf("backoff after %d attempts = %v, want %v", attempts, got, want)
		}
	}
}
