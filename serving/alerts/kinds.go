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

// ScoreChange is a score and the one before it.
type ScoreChange struct {
	Probability float64
	// Previous is the previous score's probability, NaN when there is none.
	Previous           float64
	Band, PreviousBand string
	PQL, PreviousPQL   bool
}

// Firing is a rule whose condition holds.
type Firing struct {
	Rule    Rule
	Message string
	Detail  map[string]any
}

// kind is a condition that rules test.
type kind struct {
	defaults map[string]float64
	// atIngest marks kinds evaluated when records are ingested, not only in
	// batch runs.
	atIngest bool
	// eval reports whether the condition holds, with a message and details.
	eval func(p map[string]float64, o *Observation) (msg string, detail map[string]any, ok bool)
}

// kinds are the conditions a rule may test, by name.
var kinds = map[string]kind{
	"band_drop":           {defaults: map[string]float64{}, eval: bandDrop},
	"risk_jump":           {defaults: map[string]float64{"min_increase": 0.15}, eval: riskJump},
	"usage_drop":          {defaults: map[string]float64{"drop": 0.5, "min_weekly_baseline": 20}, eval: usageDrop},
	"ticket_spike":        {defaults: map[string]float64{"min_tickets": 3, "factor": 2}, eval: ticketSpike},
	"negative_escalation": {defaults: map[string]float64{"min_severity": 1, "max_age_hours": 72}, atIngest: true, eval: negativeEscalation},
	"nps_detractor":       {defaults: map[string]float64{"max_score": 6, "max_age_days": 30}, eval: npsDetractor},
	"renewal_at_risk":     {defaults: map[string]float64{"within_days": 60, "min_probability": 0.3}, eval: renewalAtRisk},
	"trial_became_pql":    {defaults: map[string]float64{}, eval: trialBecamePQL},
	"trial_going_cold":    {defaults: map[string]float64{"inactive_days": 3, "min_trial_day": 3}, eval: trialGoingCold},
}

const day = 24 * time.Hour

// bandRank orders bands from healthy to at risk.
var bandRank = map[string]int{"green": 0, "yellow": 1, "red": 2}

func bandDrop(_ map[string]float64, o *Observation) (string, map[string]any, bool) {
	c := o.Churn
	if c == nil || c.PreviousBand == "" {
		return "", nil, false
	}
	now, okNow := bandRank[c.Band]
	before, okBefore := bandRank[c.PreviousBand]
	if !okNow || !okBefore || now <= before {
		return "", nil, false
	}
	return fmt.Sprintf("health band dropped from %s to %s", c.PreviousBand, c.Band),
		map[string]any{"from": c.PreviousBand, "to": c.Band, "probability": c.Probability}, true
}

func riskJump(p map[string]float64, o *Observation) (string, map[string]any, bool) {
	c := o.Churn
	if c == nil || math.IsNaN(c.Previous) || c.Probability-c.Previous < p["min_increase"] {
		return "", nil, false
	}
	return fmt.Sprintf("churn risk rose from %.0f%% to %.0f%%", 100*c.Previous, 100*c.Probability),
		map[string]any{"from": c.Previous, "to": c.Probability}, true
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

func usageDrop(p map[string]float64, o *Observation) (string, map[string]any, bool) {
	last := usageBetween(o.History, o.AsOf.Add(-7*day), o.AsOf)
	baseline := usageBetween(o.History, o.AsOf.Add(-35*day), o.AsOf.Add(-7*day)) / 4
	if baseline < p["min_weekly_baseline"] || last > (1-p["drop"])*baseline {
		return "", nil, false
	}
	return fmt.Sprintf("usage fell to %.0f in the last 7 days from a weekly average of %.0f", last, baseline),
		map[string]any{"last_7_days": last, "weekly_baseline": baseline}, true
}

func ticketSpike(p map[string]float64, o *Observation) (string, map[string]any, bool) {
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
		return "", nil, false
	}
	return fmt.Sprintf("%.0f tickets opened in the last 7 days against a weekly average of %.1f", last, baseline),
		map[string]any{"last_7_days": last, "weekly_baseline": baseline}, true
}

func negativeEscalation(p map[string]float64, o *Observation) (string, map[string]any, bool) {
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
		return msg, map[string]any{"escalation_id": e.EscalationID, "severity": e.Severity, "at": e.At}, true
	}
	return "", nil, false
}

func npsDetractor(p map[string]float64, o *Observation) (string, map[string]any, bool) {
	since := o.AsOf.Add(-time.Duration(p["max_age_days"]) * day)
	for i := len(o.History.Surveys) - 1; i >= 0; i-- {
		r := o.History.Surveys[i]
		if r.Kind != features.SurveyNPS || !r.At.Before(o.AsOf) {
			continue
		}
		if r.At.Before(since) || float64(r.Score) > p["max_score"] {
			return "", nil, false
		}
		return fmt.Sprintf("NPS detractor: %s answered %d", r.UserID, r.Score),
			map[string]any{"response_id": r.ResponseID, "score": r.Score, "at": r.At}, true
	}
	return "", nil, false
}

func renewalAtRisk(p map[string]float64, o *Observation) (string, map[string]any, bool) {
	a := o.History.Account
	if a == nil || o.Churn == nil || a.RenewalAt.IsZero() || !a.RenewalAt.After(o.AsOf) ||
		a.RenewalAt.Sub(o.AsOf) > time.Duration(p["within_days"])*day || o.Churn.Probability < p["min_probability"] {
		return "", nil, false
	}
	days := int(a.RenewalAt.Sub(o.AsOf) / day)
	return fmt.Sprintf("renews in %d days with %.0f%% churn risk", days, 100*o.Churn.Probability),
		map[string]any{"renewal_at": a.RenewalAt, "probability": o.Churn.Probability}, true
}

func trialBecamePQL(_ map[string]float64, o *Observation) (string, map[string]any, bool) {
	c := o.Conversion
	if c == nil || !c.PQL || c.PreviousPQL {
		return "", nil, false
	}
	return fmt.Sprintf("trial became a product-qualified lead (%.0f%% likely to convert)", 100*c.Probability),
		map[string]any{"probability": c.Probability}, true
}

func trialGoingCold(p map[string]float64, o *Observation) (string, map[string]any, bool) {
	a := o.History.Account
	if a == nil || a.TrialStartedAt.IsZero() || a.TrialStartedAt.After(o.AsOf) ||
		(!a.TrialEndsAt.IsZero() && !a.TrialEndsAt.After(o.AsOf)) ||
		(!a.ConvertedAt.IsZero() && !a.ConvertedAt.After(o.AsOf)) {
		return "", nil, false
	}
	trialDay := o.AsOf.Sub(a.TrialStartedAt) / day
	if float64(trialDay) < p["min_trial_day"] {
		return "", nil, false
	}
	idle := time.Duration(p["inactive_days"]) * day
	last := a.TrialStartedAt
	for i := range o.History.Usage {
		if at := o.History.Usage[i].At; at.Before(o.AsOf) && at.After(last) {
			last = at
		}
	}
	if o.AsOf.Sub(last) < idle {
		return "", nil, false
	}
	return fmt.Sprintf("trial on day %d has had no usage for %d days", trialDay, o.AsOf.Sub(last)/day),
		map[string]any{"trial_day": int(trialDay), "last_active": last}, true
}

// Evaluate returns the enabled rules of rs whose conditions hold for o. With
// ingestOnly, only the rules evaluated at ingestion time are tested.
func (rs Rules) Evaluate(o *Observation, ingestOnly bool) []Firing {
	var out []Firing
	for _, r := range rs {
		k := kinds[r.Kind]
		if r.Disabled || (ingestOnly && !k.atIngest) {
			continue
		}
		if msg, detail, ok := k.eval(r.Params, o); ok {
			out = append(out, Firing{Rule: r, Message: msg, Detail: detail})
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
