package serving

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/alerts"
)

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig("../testdata/serving/churn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Bands != DefaultBands() || c.Webhook.URL == "" || c.Webhook.MaxBackoff != time.Hour || c.Schedule != "0 2 * * *" ||
		c.Features.CatalogueSize != 20 {
		t.Errorf("config %+v", c)
	}
	for _, tc := range []struct{ feature, group, want string }{
		{"usage_trend_30d", "usage", "Ask what changed in the team"},
		{"active_days_30d", "usage", DefaultPlays()["usage"]},
		{"tickets_30d", "support", "Escalate the backlog to the support lead"},
		{"days_to_renewal", "firmographic", ""},
	} {
		if got := c.Plays.For(tc.feature, tc.group); got != tc.want {
			t.Errorf("play of %s (%s) = %q, want %q", tc.feature, tc.group, got, tc.want)
		}
	}
	for _, tc := range []struct {
		p    float64
		want string
	}{{0.3, Hot}, {0.2, Hot}, {0.1, Warm}, {0.09, Cold}} {
		if got := c.TrialTiers.Tier(tc.p, 0.2); got != tc.want {
			t.Errorf("tier of %v under a PQL threshold of 0.2: %s, want %s", tc.p, got, tc.want)
		}
	}
	byName := map[string]bool{}
	for _, r := range c.Rules() {
		byName[r.Name] = true
		if r.Name == "usage_drop" && r.Params["drop"] != 0.6 || r.Name == "big_risk_jump" && r.Band != "red" {
			t.Errorf("%s = %+v", r.Name, r)
		}
	}
	if !byName["big_risk_jump"] || !byName["band_drop"] {
		t.Errorf("rules %v", byName)
	}
	for name, body := range map[string]string{
		"unknown field": "bandz: {green: 1}",
		"bad bands":     "bands: {green: 50, yellow: 80}",
		"bad rule":      "alerts: {rules: [{name: nope}]}",
		"bad rule band": "alerts: {rules: [{name: risk_jump, band: green}]}",
		"bad pql":       "pql_threshold: 1.5",
		"bad warm tier": "trial_tiers: {warm: 1.2}",
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(path, []byte(body), 0o644)
		if _, err := LoadConfig(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, body := range []string{"", "# nothing set yet\n"} {
		path := filepath.Join(t.TempDir(), "empty.yaml")
		os.WriteFile(path, []byte(body), 0o644)
		if c, err := LoadConfig(path); err != nil || c.Bands != DefaultBands() || len(c.Rules()) != len(alerts.DefaultRules()) {
			t.Errorf("config %q: %v, %+v; want the defaults", body, err, c)
		}
	}
	if _, err := LoadConfig("testdata/none.yaml"); err == nil {
		t.Error("a missing file: no error")
	}
	if d, err := LoadConfig(""); err != nil || len(d.Rules()) != 9 {
		t.Errorf("defaults: %d rules, %v", len(d.Rules()), err)
	}
}
