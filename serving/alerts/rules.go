package alerts

import (
	_ "embed"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed rules.yaml
var defaultRules []byte

// Rule is one alert rule: a kind of condition with its parameters.
type Rule struct {
	// Name identifies the rule in alerts; at most one alert per (account,
	// Name) is open.
	Name string `yaml:"name" json:"name"`
	// Kind names the condition; empty means Name.
	Kind     string `yaml:"kind,omitempty" json:"kind"`
	Disabled bool   `yaml:"disabled,omitempty" json:"disabled,omitempty"`
	Severity string `yaml:"severity,omitempty" json:"severity"`
	// Cooldown is how long the rule stays quiet for an account after its
	// alert is resolved.
	Cooldown time.Duration `yaml:"cooldown,omitempty" json:"cooldown"`
	// Params override the kind's default parameters.
	Params map[string]float64 `yaml:"params,omitempty" json:"params,omitempty"`
	// Band, on the kinds about churn risk (band_drop, risk_jump,
	// renewal_at_risk), is the least healthy band the account must be in
	// for the rule to fire: yellow (yellow or red) or red. Empty is any
	// band. Like the parameters' thresholds, it holds with the others.
	Band string `yaml:"band,omitempty" json:"band,omitempty"`
}

// Rules is a set of rules, in evaluation order.
type Rules []Rule

// DefaultRules returns the built-in rules of rules.yaml.
func DefaultRules() Rules {
	var f struct{ Rules Rules }
	if err := yaml.Unmarshal(defaultRules, &f); err != nil {
		panic("alerts: embedded rules.yaml: " + err.Error()) // a build defect, caught by the tests
	}
	rs, err := Rules(nil).Merge(f.Rules)
	if err != nil {
		panic("alerts: embedded rules.yaml: " + err.Error())
	}
	return rs
}

// ParseRules reads a YAML document with a top-level "rules" list and
// merges it over the defaults.
func ParseRules(r io.Reader) (Rules, error) {
	var f struct{ Rules Rules }
	if err := yaml.NewDecoder(r).Decode(&f); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading alert rules: %w", err)
	}
	return DefaultRules().Merge(f.Rules)
}

// Merge returns rs with each rule of over applied: a rule whose name rs
// holds replaces that rule's kind, severity, cooldown and disabled flag
// where set, and its parameters one by one; a new name adds a rule. The
// result is validated: every kind must exist and every parameter be one
// the kind knows.
func (rs Rules) Merge(over Rules) (Rules, error) {
	out := make(Rules, len(rs))
	for i, r := range rs {
		r.Params = maps.Clone(r.Params)
		out[i] = r
	}
	for _, o := range over {
		i := slices.IndexFunc(out, func(r Rule) bool { return r.Name == o.Name })
		if i < 0 {
			out = append(out, Rule{Name: o.Name})
			i = len(out) - 1
		}
		r := &out[i]
		if o.Kind != "" {
			r.Kind = o.Kind
		}
		if o.Severity != "" {
			r.Severity = o.Severity
		}
		if o.Cooldown != 0 {
			r.Cooldown = o.Cooldown
		}
		if o.Band != "" {
			r.Band = o.Band
		}
		r.Disabled = o.Disabled
		for k, v := range o.Params {
			if r.Params == nil {
				r.Params = map[string]float64{}
			}
			r.Params[k] = v
		}
	}
	for i := range out {
		if err := out[i].complete(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// complete fills the kind and default parameters of r and checks them.
func (r *Rule) complete() error {
	if r.Name == "" {
		return fmt.Errorf("alert rule without a name")
	}
	if r.Kind == "" {
		r.Kind = r.Name
	}
	k, ok := kinds[r.Kind]
	if !ok {
		return fmt.Errorf("alert rule %s: unknown kind %q (want one of %s)", r.Name, r.Kind, strings.Join(slices.Sorted(maps.Keys(kinds)), ", "))
	}
	for name := range r.Params {
		if _, ok := k.defaults[name]; !ok {
			return fmt.Errorf("alert rule %s: kind %s has no parameter %q (it has %v)", r.Name, r.Kind, name, slices.Sorted(maps.Keys(k.defaults)))
		}
	}
	if r.Band != "" {
		if !k.book {
			return fmt.Errorf("alert rule %s: kind %s takes no band: only the kinds about churn risk do (band_drop, risk_jump, renewal_at_risk)", r.Name, r.Kind)
		}
		if r.Band != "yellow" && r.Band != "red" {
			return fmt.Errorf("alert rule %s: band %q is not yellow or red", r.Name, r.Band)
		}
	}
	params := maps.Clone(k.defaults)
	maps.Copy(params, r.Params)
	r.Params = params
	if r.Severity == "" {
		r.Severity = "medium"
	}
	if SeverityWeight(r.Severity) == 0 {
		return fmt.Errorf("alert rule %s: unknown severity %q (want one of %s)", r.Name, r.Severity, strings.Join(Severities, ", "))
	}
	if r.Cooldown < 0 {
		return fmt.Errorf("alert rule %s: negative cooldown %v", r.Name, r.Cooldown)
	}
	return nil
}
