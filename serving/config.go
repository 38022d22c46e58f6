package serving

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/alerts"
)

// Config is the service's configuration file (churn.yaml). Every field has
// a default, so an empty file, or none, is a valid configuration.
//
//	bands: {green: 80, yellow: 60}      # health at or above green is green, at or above yellow is yellow, else red
//	pql_threshold: 0                    # conversion probability that flags a PQL; 0 uses the model's
//	features: {catalogue_size: 20, key_features: [reports, integrations]}
//	alerts:
//	  rules: [{name: usage_drop, params: {drop: 0.6}}]
//	webhook: {url: https://hooks.example/..., secret: s3cret}
//	plays: {usage: Book an adoption review, nps_detractor: Call the detractor back}
//	trial_tiers: {warm: 0.5}            # warm from half the PQL threshold; hot at it, cold below warm
//	schedule: "0 2 * * *"               # in-process batch scoring (cron, UTC); empty for none
//	api: {rate_per_second: 50, burst: 100, body_limit: 32M, score_stale_after: 48h}
//	limits: {event_lead: 24h}          # how far past now an event time may lie
type Config struct {
	Bands        Bands   `yaml:"bands"`
	PQLThreshold float64 `yaml:"pql_threshold"`
	// Features configures the feature builder of the models churnd --demo
	// trains, and the catalog /v1/features serves before any model is
	// registered; a registered model scores with its own record's.
	Features features.Config `yaml:"features"`
	Alerts   struct {
		Rules alerts.Rules `yaml:"rules"`
	} `yaml:"alerts"`
	Webhook alerts.Webhook `yaml:"webhook"`
	// Plays maps a feature group or a feature name to the next step the
	// account page suggests for a reason of that group or feature; the
	// file's entries are added over DefaultPlays.
	Plays Plays `yaml:"plays"`
	// TrialTiers sets the trials worklist's tiers.
	TrialTiers TrialTiers `yaml:"trial_tiers"`
	Schedule   string     `yaml:"schedule"`
	API        APIConfig  `yaml:"api"`
	// GrossMargin (0 to 1) adjusts LTV and CAC payback; 0 leaves them
	// unadjusted (docs/METRICS.md).
	GrossMargin float64      `yaml:"gross_margin"`
	Limits      LimitsConfig `yaml:"limits"`

	// rules holds Alerts.Rules merged over the defaults.
	rules alerts.Rules
}

// LimitsConfig sets the configurable limits of ingested records; the fixed
// ones are the constants of features' limits.go.
type LimitsConfig struct {
	// EventLead is how far past now an event time may lie; zero means
	// features.DefaultEventLead (a day).
	EventLead time.Duration `yaml:"event_lead"`
}

// APIConfig sets the HTTP server's limits.
type APIConfig struct {
	// RatePerSecond and Burst bound each API key's request rate.
	RatePerSecond float64 `yaml:"rate_per_second"`
	Burst         int     `yaml:"burst"`
	// BodyLimit bounds request bodies, e.g. "32M".
	BodyLimit string `yaml:"body_limit"`
	// ScoreStaleAfter, when set, is the age beyond which a stored score is
	// rescored on demand as of now when an account is read. It is off by
	// default: a history that ended in the past, such as the demo's, would
	// otherwise be scored as of a time with no data.
	ScoreStaleAfter time.Duration `yaml:"score_stale_after"`
	// CacheTTL is how long a rendered account or trial view, a page of a
	// listing or the dashboard's accounts page is reused (default 30 s;
	// negative disables). Writes through the server clear it at once, and
	// another process's batch run within about a second (api.Options
	// ScoresPoll); the TTL bounds how long other changes made elsewhere
	// take to show.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// AuthFailuresPerMinute and AuthFailureBurst throttle failed
	// authentications per client address (default 10 a minute, bursts of
	// 20; a negative rate disables); TrustForwardedFor takes the address
	// from a reverse proxy's X-Forwarded-For.
	AuthFailuresPerMinute float64 `yaml:"auth_failures_per_minute"`
	AuthFailureBurst      int     `yaml:"auth_failure_burst"`
	TrustForwardedFor     bool    `yaml:"trust_forwarded_for"`
}

// DefaultConfig returns the defaults: bands at health 80 and 60 (see
// DefaultBands), the
// model's PQL threshold, the built-in alert rules, no webhook, no schedule,
// and 50 requests per second per key with bursts of 100.
func DefaultConfig() Config {
	c := Config{
		Bands:      DefaultBands(),
		Webhook:    alerts.DefaultWebhook(),
		Plays:      DefaultPlays(),
		TrialTiers: TrialTiers{Warm: 0.5},
		API:        APIConfig{RatePerSecond: 50, Burst: 100, BodyLimit: "32M"},
	}
	c.rules = alerts.DefaultRules()
	return c
}

// LoadConfig reads a configuration file over the defaults; an empty path
// gives the defaults.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("reading config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file (or one of comments only) is the defaults.
	if err := dec.Decode(&c); err != nil && err != io.EOF {
		return c, fmt.Errorf("reading config %s: %w", path, err)
	}
	if c.rules, err = alerts.DefaultRules().Merge(c.Alerts.Rules); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.Bands.validate(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if !(c.TrialTiers.Warm > 0 && c.TrialTiers.Warm < 1) {
		return c, fmt.Errorf("config %s: trial_tiers.warm %v is not in (0, 1)", path, c.TrialTiers.Warm)
	}
	if c.PQLThreshold < 0 || c.PQLThreshold >= 1 {
		return c, fmt.Errorf("config %s: pql_threshold %v is not in [0, 1)", path, c.PQLThreshold)
	}
	return c, nil
}

// Rules returns the alert rules: the defaults with the file's changes.
func (c Config) Rules() alerts.Rules { return c.rules }

// Plays maps feature groups and feature names to suggested next steps.
type Plays map[string]string

// DefaultPlays returns a next step for each actionable feature group.
func DefaultPlays() Plays {
	return Plays{
		"usage":      "Book an adoption review with the account's main users",
		"support":    "Go through the open tickets with the support lead",
		"sentiment":  "Call the account and close the loop on its feedback",
		"commercial": "Review the contract and the plan with the buyer",
		"trial":      "Offer an onboarding call on the key features",
	}
}

// For returns the play of a reason's feature, else of its group, else "".
func (p Plays) For(feature, group string) string {
	if s, ok := p[feature]; ok {
		return s
	}
	return p[group]
}

// TrialTiers rank trials for sales: hot at or above the PQL threshold,
// warm from Warm × the threshold, cold below.
type TrialTiers struct {
	Warm float64 `yaml:"warm"`
}

// The trial tiers.
const (
	Hot  = "hot"
	Warm = "warm"
	Cold = "cold"
)

// Tier returns the tier of a trial with conversion probability p under a
// PQL threshold; a zero Warm means 0.5.
func (t TrialTiers) Tier(p, threshold float64) string {
	warm := t.Warm
	if warm == 0 {
		warm = 0.5
	}
	switch {
	case p >= threshold:
		return Hot
	case p >= warm*threshold:
		return Warm
	}
	return Cold
}
