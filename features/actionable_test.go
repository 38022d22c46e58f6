package features

import "testing"

func TestActionableAndSignal(t *testing.T) {
	byName := map[string]Feature{}
	for _, f := range catalog {
		byName[f.Name] = f
	}
	for name := range contextFeatures {
		if _, ok := byName[name]; !ok {
			t.Errorf("context feature %q is not in the catalog", name)
		}
	}
	for name := range signals {
		if _, ok := byName[name]; !ok {
			t.Errorf("signal feature %q is not in the catalog", name)
		}
	}
	tests := []struct {
		name       string
		actionable bool
		signal     string
	}{
		{"days_to_renewal", false, "days_to_renewal"},
		{"tenure_days", false, "tenure_days"},
		{"plan", false, "plan"},
		{"seats", false, "seats"},
		{"trial_day", false, "trial_day"},
		{"segment", false, "segment"},
		{"active_days_30d", true, "active_days_30d"},
		{"tickets_30d", true, "tickets"},
		{"tickets_per_seat_90d", true, "tickets"},
		{"usage_trend_14_60d", true, "usage trend"},
		{"nps_detractor", true, "nps"},
		{"contractions_180d", true, "contractions_180d"},
		{"trial_key_features", true, "trial_key_features"},
	}
	for _, tc := range tests {
		f := byName[tc.name]
		if got := f.Actionable(); got != tc.actionable {
			t.Errorf("%s: Actionable() = %v, want %v", tc.name, got, tc.actionable)
		}
		if got := f.Signal(); got != tc.signal {
			t.Errorf("%s: Signal() = %q, want %q", tc.name, got, tc.signal)
		}
	}
	if (Feature{Name: "attr_country", Group: Firmographic}).Actionable() {
		t.Error("an attribute feature is actionable")
	}
}
