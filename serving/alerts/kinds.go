package alerts

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/openchurn/churn/features"
)

// Observation is what the rules look at for one account as of a time.
type Observation struct {
	AsOf time.Time
	// History holds the account's records; the rules read only those from
	// before AsOf. Its Account may be nil.
	History *features.History
	// Churn and Conversion describe the account's scores as of AsOf; nil
	// when it has none for the task.
	Churn, Conversion *ScoreChange
}

// ScoreChange is a score and the one before it, with where the score
// stands in the book of accounts its model scores.
type ScoreChange struct {
	Probability float64
	// Previous is the previous score's probability, NaN when there is none.
	Previous           float64
	Band, PreviousBand string
	PQL, PreviousPQL   bool
	// TopShare is the share of the book whose probability is at least
	// this one (0.05: among the riskiest 5%), NaN when the book is
	// unknown; BaseRate is the book's mean probability, 0 when unknown.
	TopShare, BaseRate float64
}

// Firing is a rule whose condition holds.
type Firing struct {
	Rule    Rule
	Message string
	Detail  map[string]any
	// Severity is the alert's severity: the rule's, or for a band drop
	// the band's.
	Severity string
	// At is the time of the signal: the record that fired the rule (an
	// escalation, an NPS answer), else the observation's as-of time.
	At time.Time
}

// finding is what a condition that holds reports.
type finding struct {
	msg    string
	detail map[string]any
	// severity overrides the rule's when set; at is the signal's time when
	// it is a record's.
	severity string
	at       time.Time
}

// kind is a condition that rules test.
type kind struct {
	defaults map[string]float64
	// atIngest marks kinds evaluated when records are ingested, not only in
	// batch runs.
	atIngest bool
	// trial marks kinds about a running trial, whose alerts resolve when
	// the trial converts or ends.
	trial bool
	// book marks kinds about churn risk, which take thresholds relative
	// to the book (riskyInBook) and a Rule's Band.
	book bool
	// eval reports whether the condition holds, with what it found.
	eval func(p map[string]float64, o *Observation) (finding, bool)
}

// kinds are the conditions a rule may test, by name.
var kinds = map[string]kind{
	"band_drop":           {defaults: map[string]float64{"top_percent": 0, "base_rate_multiple": 0, "min_probability": 0}, book: true, eval: bandDrop},
	"risk_jump":           {defaults: map[string]float64{"min_increase": 0, "min_factor": 2, "top_percent": 10, "base_rate_multiple": 0, "min_probability": 0}, book: true, eval: riskJump},
	"usage_drop":          {defaults: map[string]float64{"drop": 0.5, "min_weekly_baseline": 20}, eval: usageDrop},
	"ticket_spike":        {defaults: map[string]float64{"min_tickets": 3, "factor": 2}, eval: ticketSpike},
	"negative_escalation": {defaults: map[string]float64{"min_severity": 1, "max_age_hours": 72}, atIngest: true, eval: negativeEscalation},
	"nps_detractor":       {defaults: map[string]float64{"max_score": 6, "max_age_days": 30}, eval: npsDetractor},
	"renewal_at_risk":     {defaults: map[string]float64{"within_days": 60, "top_percent": 5, "base_rate_multiple": 0, "min_probability": 0}, book: true, eval: renewalAtRisk},
	"trial_became_pql":    {defaults: map[string]float64{}, trial: true, eval: trialBecamePQL},
	"trial_going_cold":    {defaults: map[string]float64{"inactive_days": 3, "min_trial_day": 3}, trial: true, eval: trialGoingCold},
}

const day = 24 * time.Hour

// bandRank orders bands from healthy to at risk.
var bandRank = map[string]int{"green": 0, "yellow": 1, "red": 2}

func bandDrop(p map[string]float64, o *Observation) (finding, bool) {
	c := o.Churn
	if c == nil || c.PreviousBand == "" || !riskyInBook(p, c) {
		return finding{}, false
	}
	now, okNow := bandRank[c.Band]
	before, okBefore := bandRank[c.PreviousBand]
	if !okNow || !okBefore || now <= before {
		return finding{}, false
	}
	f := finding{msg: fmt.Sprintf("health band dropped from %s to %s", c.PreviousBand, c.Band),
		detail: bookDetail(map[string]any{"from": c.PreviousBand, "to": c.Band, "probability": c.Probability}, c)}
	if c.Band == "yellow" {
		f.severity = "medium" // the rule's severity is for a drop to red
	}
	return f, true
}

// riskyInBook reports whether c's probability clears the thresholds of p
// that are set (non-zero): among the top_percent riskiest of the book, at
// least base_rate_multiple × the book's mean, at least min_probability.
// Thresholds relative to the book hold for any model, whatever the range
// of its probabilities; a book that is unknown clears none of them.
func riskyInBook(p map[string]float64, c *ScoreChange) bool {
	if top := p["top_percent"]; top > 0 && !(c.TopShare <= top/100) {
		return false
	}
	if m := p["base_rate_multiple"]; m > 0 && !(c.BaseRate > 0 && c.Probability >= m*c.BaseRate) {
		return false
	}
	return c.Probability >= p["min_probability"]
}

// inBand reports whether c's band is band or less healthy.
func inBand(c *ScoreChange, band string) bool {
	if c == nil {
		return false
	}
	now, ok := bandRank[c.Band]
	return ok && now >= bandRank[band]
}

// bookDetail adds where the score stands in the book to an alert's detail.
func bookDetail(d map[string]any, c *ScoreChange) map[string]any {
	if !math.IsNaN(c.TopShare) {
		d["top_share"] = c.TopShare
	}
	if c.BaseRate > 0 {
		d["base_rate"] = c.BaseRate
	}
	return d
}

func riskJump(p map[string]float64, o *Observation) (finding, bool) {
	c := o.Churn
	if c == nil || math.IsNaN(c.Previous) || c.Probability-c.Previous < p["min_increase"] ||
		c.Probability <= c.Previous || c.Probability < p["min_factor"]*c.Previous || !riskyInBook(p, c) {
		return finding{}, false
	}
	return finding{msg: fmt.Sprintf("churn risk rose from %s to %s%s", pct(c.Previous), pct(c.Probability), rank(c)),
		detail: bookDetail(map[string]any{"from": c.Previous, "to": c.Probability}, c)}, true
}

// pct writes a probability as a whole percent, "<1%" below one.
func pct(p float64) string {
	if p < 0.005 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", 100*p)
}

// rank says where a score stands in the book: ", among the riskiest 3% of
// accounts", or "" when the book is unknown.
func rank(c *ScoreChange) string {
	if math.IsNaN(c.TopShare) {
		return ""
	}
	return fmt.Sprintf(", among the riskiest %s of accounts", pct(max(c.TopShare, 0.01)))
}

// usageBefore sums usage counts in [from, to).
func usageBetween(h *features.History, from, to time.Time) float64 {
	var n float64
	for i := range h.Usage {
		if at := h.Usage[i].At; !at.Before(from) && at.Before(to) {
			n += float64(h.Usage[i].Count)
		}
	}
	return n
}

func usageDrop(p map[string]float64, o *Observation) (finding, bool) {
	last := usageBetween(o.History, o.AsOf.Add(-7*day), o.AsOf)
	baseline := usageBetween(o.History, o.AsOf.Add(-35*day), o.AsOf.Add(-7*day)) / 4
	if baseline < p["min_weekly_baseline"] || last > (1-p["drop"])*baseline {
		return finding{}, false
	}
	return finding{msg: fmt.Sprintf("usage fell to %.0f in the last 7 days from a weekly average of %.0f", last, baseline),
		detail: map[string]any{"last_7_days": last, "weekly_baseline": baseline}}, true
}

func ticketSpike(p map[string]float64, o *Observation) (finding, bool) {
	var last, before float64
	for _, t := range o.History.Tickets {
		switch {
		case !t.OpenedAt.Before(o.AsOf) || t.OpenedAt.Before(o.AsOf.Add(-35*day)):
		case !t.OpenedAt.Before(o.AsOf.Add(-7 * day)):
			last++
		default:
			before++
		}
	}
	baseline := before / 4
	if last < p["min_tickets"] || last < p["factor"]*baseline {
		return finding{}, false
	}
	return finding{msg: fmt.Sprintf("%.0f tickets opened in the last 7 days against a weekly average of %.1f", last, baseline),
		detail: map[string]any{"last_7_days": last, "weekly_baseline": baseline}}, true
}

func negativeEscalation(p map[string]float64, o *Observation) (finding, bool) {
	since := o.AsOf.Add(-time.Duration(p["max_age_hours"] * float64(time.Hour)))
	for i := len(o.History.Escalations) - 1; i >= 0; i-- {
		e := o.History.Escalations[i]
		if e.At.After(o.AsOf) || e.At.Before(since) || e.Direction != features.DirectionNegative ||
			float64(slices.Index(features.Severities, e.Severity)) < p["min_severity"] {
			continue
		}
		msg := fmt.Sprintf("negative escalation (%s)", e.Severity)
		if e.Note != "" {
			msg += ": " + e.Note
		}
		return finding{msg: msg, detail: map[string]any{"escalation_id": e.EscalationID, "severity": e.Severity, "at": e.At}, at: e.At}, true
	}
	return finding{}, false
}

func npsDetractor(p map[string]float64, o *Observation) (finding, bool) {
	since := o.AsOf.Add(-time.Duration(p["max_age_days"]) * day)
	for i := len(o.History.Surveys) - 1; i >= 0; i-- {
		r := o.History.Surveys[i]
		if r.Kind != features.SurveyNPS || !r.At.Before(o.AsOf) {
			continue
		}
		if r.At.Before(since) || float64(r.Score) > p["max_score"] {
			return finding{}, false
		}
		return finding{msg: fmt.Sprintf("NPS detractor: %s answered %d", r.UserID, r.Score),
			detail: map[string]any{"response_id": r.ResponseID, "score": r.Score, "at": r.At}, at: r.At}, true
	}
	return finding{}, false
}

func renewalAtRisk(p map[string]float64, o *Observation) (finding, bool) {
	a := o.History.Account
	if a == nil || o.Churn == nil || a.RenewalAt.IsZero() || !a.RenewalAt.After(o.AsOf) ||
		a.RenewalAt.Sub(o.AsOf) > time.Duration(p["within_days"])*day || !riskyInBook(p, o.Churn) {
		return finding{}, false
	}
	days := int(a.RenewalAt.Sub(o.AsOf) / day)
	return finding{msg: fmt.Sprintf("renews in %d days with %s churn risk%s", days, pct(o.Churn.Probability), rank(o.Churn)),
		detail: bookDetail(map[string]any{"renewal_at": a.RenewalAt, "probability": o.Churn.Probability}, o.Churn)}, true
}

func trialBecamePQL(_ map[string]float64, o *Observation) (finding, bool) {
	c := o.Conversion
	if c == nil || !c.PQL || c.PreviousPQL {
		return finding{}, false
	}
	return finding{msg: fmt.Sprintf("trial became a product-qualified lead (%s likely to convert)", pct(c.Probability)),
		detail: map[string]any{"probability": c.Probability}}, true
}

func trialGoingCold(p map[string]float64, o *Observation) (finding, bool) {
	a := o.History.Account
	if a == nil || a.TrialStartedAt.IsZero() || a.TrialStartedAt.After(o.AsOf) ||
		(!a.TrialEndsAt.IsZero() && !a.TrialEndsAt.After(o.AsOf)) ||
		(!a.ConvertedAt.IsZero() && !a.ConvertedAt.After(o.AsOf)) {
		return finding{}, false
	}
	trialDay := o.AsOf.Sub(a.TrialStartedAt) / day
	if float64(trialDay) < p["min_trial_day"] {
		return finding{}, false
	}
	idle := time.Duration(p["inactive_days"]) * day
	last := a.TrialStartedAt
	for i := range o.History.Usage {
		if at := o.History.Usage[i].At; at.Before(o.AsOf) && at.After(last) {
			last = at
		}
	}
	if o.AsOf.Sub(last) < idle {
		return finding{}, false
	}
	return finding{msg: fmt.Sprintf("trial on day %d has had no usage for %d days", trialDay, o.AsOf.Sub(last)/day),
		detail: map[string]any{"trial_day": int(trialDay), "last_active": last}}, true
}

// Evaluate returns the enabled rules of rs whose conditions hold for o. With
// ingestOnly, only the rules evaluated at ingestion time are tested.
func (rs Rules) Evaluate(o *Observation, ingestOnly bool) []Firing {
	var out []Firing
	for _, r := range rs {
		k := kinds[r.Kind]
		if r.Disabled || (ingestOnly && !k.atIngest) || (r.Band != "" && !inBand(o.Churn, r.Band)) {
			continue
		}
		if f, ok := k.eval(r.Params, o); ok {
			fr := Firing{Rule: r, Message: f.msg, Detail: f.detail, Severity: r.Severity, At: o.AsOf}
			if f.severity != "" {
				fr.Severity = f.severity
			}
			if !f.at.IsZero() {
				fr.At = f.at
			}
			out = append(out, fr)
		}
	}
	return out
}

// IngestLookback returns how far back ingestion-time rules look: the
// largest max_age_hours of the enabled rules evaluated at ingestion, or 0
// when there are none.
func (rs Rules) IngestLookback() time.Duration {
	var d time.Duration
	for _, r := range rs {
		if k := kinds[r.Kind]; k.atIngest && !r.Disabled {
			d = max(d, time.Duration(r.Params["max_age_hours"]*float64(time.Hour)))
		}
	}
	return d
}

// TrialRules returns the names of the rules about a running trial, whose
// alerts resolve when the trial converts or ends.
func (rs Rules) TrialRules() []string {
	var out []string
	for _, r := range rs {
		if kinds[r.Kind].trial {
			out = append(out, r.Name)
		}
	}
	return out
}
