package saas

import (
	"slices"
	"sort"
)

// FunnelRow is the trial funnel of one signup cohort: the trials started
// in a month, or through a channel. Rates are fractions of the stage
// before, or of the trials where stated.
type FunnelRow struct {
	Cohort string `json:"cohort"`
	Trials int    `json:"trials"`
	// Activated trials used a key feature during the trial; absent
	// without configured key features.
	Activated Value `json:"activated"`
	// PQLs were flagged product-qualified by the model; absent when no
	// flags were given.
	PQLs Value `json:"pqls"`
	// Converted trials became paying customers (by the data's end).
	Converted      int   `json:"converted"`
	ActivationRate Value `json:"activation_rate"` // activated ÷ trials
	PQLRate        Value `json:"pql_rate"`        // PQLs ÷ trials
	ConversionRate Value `json:"conversion_rate"` // converted ÷ trials
	// ActivatedConversionRate is the share of activated trials that
	// converted.
	ActivatedConversionRate Value `json:"activated_conversion_rate"`
	// Days from trial start to conversion, over the converted.
	DaysToConvertMean   Value    `json:"days_to_convert_mean"`
	DaysToConvertMedian Value    `json:"days_to_convert_median"`
	Absent              Absences `json:"absent,omitempty"`
}

// VelocityMonth is one month's lead velocity: the month-over-month growth
// of trials started and of PQLs flagged ((this − last) ÷ last).
type VelocityMonth struct {
	Month       Month    `json:"month"`
	Trials      int      `json:"trials"`
	TrialGrowth Value    `json:"trial_growth"`
	PQLs        Value    `json:"pqls"`
	PQLGrowth   Value    `json:"pql_growth"`
	Absent      Absences `json:"absent,omitempty"`
}

// Funnel is the acquisition funnel of the trials started in a range.
type Funnel struct {
	ByMonth      []FunnelRow     `json:"by_month"`
	ByChannel    []FunnelRow     `json:"by_channel"`
	Total        FunnelRow       `json:"total"`
	LeadVelocity []VelocityMonth `json:"lead_velocity"`
}

type funnelTally struct {
	trials, activated, pqls, converted, activatedConverted int
	days                                                   []float64
}

const (
	noKeyFeatures = "no key features are configured"
	noPQLs        = "no PQL flags were given (no conversion scores)"
	noTrials      = "no trials started"
)

// Funnel returns the funnel of the trials started in r.
func (b *Book) Funnel(r Range) (Funnel, error) {
	if err := r.Validate(); err != nil {
		return Funnel{}, err
	}
	months := make([]funnelTally, r.Months())
	channels := map[string]*funnelTally{}
	var total funnelTally
	for _, a := range b.order {
		if a.trialStart.IsZero() {
			continue
		}
		m := MonthOf(a.trialStart)
		if m < r.From || m > r.To {
			continue
		}
		ch := channels[a.channel]
		if ch == nil {
			ch = &funnelTally{}
			channels[a.channel] = ch
		}
		for _, t := range []*funnelTally{&months[m-r.From], ch, &total} {
			t.trials++
			if a.activated {
				t.activated++
			}
			if !a.pqlAt.IsZero() {
				t.pqls++
			}
			if !a.convertedAt.IsZero() {
				t.converted++
				t.days = append(t.days, a.convertedAt.Sub(a.trialStart).Hours()/24)
				if a.activated {
					t.activatedConverted++
				}
			}
		}
	}
	var out Funnel
	for i := range months {
		out.ByMonth = append(out.ByMonth, b.funnelRow((r.From+Month(i)).String(), &months[i]))
	}
	names := make([]string, 0, len(channels))
	for c := range channels {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		out.ByChannel = append(out.ByChannel, b.funnelRow(c, channels[c]))
	}
	out.Total = b.funnelRow("total", &total)
	for i, t := range months {
		m := r.From + Month(i)
		v := VelocityMonth{Month: m, Trials: t.trials}
		var prevTrials int
		if i > 0 {
			prevTrials = months[i-1].trials
		} else {
			prevTrials = b.trialsIn(m - 1)
		}
		v.TrialGrowth = v.Absent.note("trial_growth", ratio(float64(t.trials-prevTrials), float64(prevTrials), "no trials started the month before"))
		v.PQLs, v.PQLGrowth = Absent(noPQLs), Absent(noPQLs)
		if len(b.pqls) > 0 {
			v.PQLs = Known(float64(b.pqls[m]))
			v.PQLGrowth = ratio(float64(b.pqls[m]-b.pqls[m-1]), float64(b.pqls[m-1]), "no PQLs were flagged the month before")
		}
		v.Absent.note("pqls", v.PQLs)
		v.Absent.note("pql_growth", v.PQLGrowth)
		out.LeadVelocity = append(out.LeadVelocity, v)
	}
	return out, nil
}

// trialsIn counts the trials started in m.
func (b *Book) trialsIn(m Month) int {
	n := 0
	for _, a := range b.order {
		if !a.trialStart.IsZero() && MonthOf(a.trialStart) == m {
			n++
		}
	}
	return n
}

func (b *Book) funnelRow(cohort string, t *funnelTally) FunnelRow {
	f := FunnelRow{Cohort: cohort, Trials: t.trials, Converted: t.converted}
	a := &f.Absent
	trials := float64(t.trials)
	f.Activated, f.ActivationRate, f.ActivatedConversionRate = Absent(noKeyFeatures), Absent(noKeyFeatures), Absent(noKeyFeatures)
	if b.usage.keyFeatures != nil {
		f.Activated = Known(float64(t.activated))
		f.ActivationRate = ratio(float64(t.activated), trials, noTrials)
		f.ActivatedConversionRate = ratio(float64(t.activatedConverted), float64(t.activated), "no trial activated")
	}
	f.PQLs, f.PQLRate = Absent(noPQLs), Absent(noPQLs)
	if len(b.pqls) > 0 {
		f.PQLs = Known(float64(t.pqls))
		f.PQLRate = ratio(float64(t.pqls), trials, noTrials)
	}
	a.note("activated", f.Activated)
	a.note("activation_rate", f.ActivationRate)
	a.note("activated_conversion_rate", f.ActivatedConversionRate)
	a.note("pqls", f.PQLs)
	a.note("pql_rate", f.PQLRate)
	f.ConversionRate = a.note("conversion_rate", ratio(float64(t.converted), trials, noTrials))
	f.DaysToConvertMean = a.note("days_to_convert_mean", mean(t.days, "no trial converted"))
	f.DaysToConvertMedian = a.note("days_to_convert_median", median(t.days, "no trial converted"))
	return f
}

// mean returns the mean of xs, or absent with reason when it is empty.
func mean(xs []float64, reason string) Value {
	if len(xs) == 0 {
		return Absent(reason)
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return Known(s / float64(len(xs)))
}

// median returns the median of xs (the mean of the middle two of an even
// count), or absent with reason when it is empty. It sorts a copy.
func median(xs []float64, reason string) Value {
	if len(xs) == 0 {
		return Absent(reason)
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return Known(s[n/2])
	}
	return Known((s[n/2-1] + s[n/2]) / 2)
}
