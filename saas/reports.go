package saas

import (
	"fmt"
	"slices"
	"sort"
)

// MRRMonth is one month's MRR movements. Amounts are in the billing
// currency per month (MRR); ARR is 12 × MRR.
type MRRMonth struct {
	Month    Month   `json:"month"`
	StartMRR float64 `json:"start_mrr"`
	// New is the MRR of first subscriptions, Reactivation that of
	// customers returning after a churn (outside the grace period),
	// Expansion and Contraction the rises and falls of existing
	// subscriptions, Churned the MRR of subscriptions that ended.
	New          float64 `json:"new"`
	Expansion    float64 `json:"expansion"`
	Contraction  float64 `json:"contraction"`
	Churned      float64 `json:"churned"`
	Reactivation float64 `json:"reactivation"`
	// NetNew = New + Expansion + Reactivation − Contraction − Churned =
	// EndMRR − StartMRR.
	NetNew float64 `json:"net_new"`
	EndMRR float64 `json:"end_mrr"`
	ARR    float64 `json:"arr"`
	// Customers counts accounts with MRR at the end of the month.
	Customers            int `json:"customers"`
	NewCustomers         int `json:"new_customers"`
	ChurnedCustomers     int `json:"churned_customers"`
	ReactivatedCustomers int `json:"reactivated_customers"`
	// QuickRatio is (New + Expansion + Reactivation) ÷ (Churned +
	// Contraction); absent in a month that lost nothing.
	QuickRatio Value    `json:"quick_ratio"`
	Absent     Absences `json:"absent,omitempty"`
}

// MRR returns the monthly MRR movements of r.
func (b *Book) MRR(r Range) ([]MRRMonth, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	rv := b.revenueOf(r)
	out := make([]MRRMonth, len(rv.months))
	for i, t := range rv.months {
		m := MRRMonth{Month: r.From + Month(i), StartMRR: t.startMRR, New: t.newMRR, Expansion: t.expansion,
			Contraction: t.contraction, Churned: t.churned, Reactivation: t.reactivation, EndMRR: t.endMRR,
			ARR: 12 * t.endMRR, Customers: t.customers, NewCustomers: t.newLogos, ChurnedCustomers: t.churnedLogos,
			ReactivatedCustomers: t.reactivatedLogos}
		m.NetNew = m.New + m.Expansion + m.Reactivation - m.Contraction - m.Churned
		m.QuickRatio = m.Absent.note("quick_ratio", ratio(m.New+m.Expansion+m.Reactivation, m.Churned+m.Contraction,
			"no MRR was churned or contracted in the month"))
		out[i] = m
	}
	return out, nil
}

// RetentionMonth is one month's retention. Rates are fractions (0.95
// means 95 %).
type RetentionMonth struct {
	Month Month `json:"month"`
	// StartCustomers had MRR at the start of the month; RetainedCustomers
	// of them still had MRR at its end.
	StartCustomers    int     `json:"start_customers"`
	RetainedCustomers int     `json:"retained_customers"`
	StartMRR          float64 `json:"start_mrr"`
	LogoRetention     Value   `json:"logo_retention"`
	LogoChurn         Value   `json:"logo_churn"`
	// GRR is Σ min(end MRR, start MRR) ÷ start MRR over the start
	// customers; NRR is Σ end MRR ÷ start MRR, expansion included.
	GRR Value `json:"grr"`
	NRR Value `json:"nrr"`
	// The trailing-12-month figures measure, at the end of this month,
	// the customers of the start of the month eleven months earlier.
	LogoRetentionT12 Value `json:"logo_retention_t12m"`
	GRRT12           Value `json:"grr_t12m"`
	NRRT12           Value `json:"nrr_t12m"`
	// Annual contracts whose anniversary fell in the month, and how many
	// (and how much of their MRR) renewed.
	RenewalsDue       int      `json:"renewals_due"`
	Renewed           int      `json:"renewed"`
	RenewalRate       Value    `json:"renewal_rate"`
	RenewalMRRDue     float64  `json:"renewal_mrr_due"`
	RenewedMRR        float64  `json:"renewed_mrr"`
	RenewalAmountRate Value    `json:"renewal_amount_rate"`
	Absent            Absences `json:"absent,omitempty"`
}

const (
	noCustomers   = "no customers at the start of the month"
	noCustomers12 = "no customers at the start of the trailing 12 months"
	noRenewals    = "no annual contract came up for renewal in the month"
)

// Retention returns the monthly retention of r.
func (b *Book) Retention(r Range) ([]RetentionMonth, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	rv := b.revenueOf(r)
	out := make([]RetentionMonth, len(rv.months))
	for i, t := range rv.months {
		m := RetentionMonth{Month: r.From + Month(i), StartCustomers: t.startCustomers, RetainedCustomers: t.retainedLogos,
			StartMRR: t.startMRR, RenewalsDue: t.renewalsDue, Renewed: t.renewed, RenewalMRRDue: t.renewalMRRDue,
			RenewedMRR: t.renewedMRR}
		a := &m.Absent
		start := float64(t.startCustomers)
		m.LogoRetention = a.note("logo_retention", ratio(float64(t.retainedLogos), start, noCustomers))
		m.LogoChurn = a.note("logo_churn", ratio(start-float64(t.retainedLogos), start, noCustomers))
		m.GRR = a.note("grr", ratio(t.cappedMRR, t.startMRR, noCustomers))
		m.NRR = a.note("nrr", ratio(t.retainedMRR, t.startMRR, noCustomers))
		m.LogoRetentionT12 = a.note("logo_retention_t12m", ratio(float64(t.retainedT12), float64(t.startT12), noCustomers12))
		m.GRRT12 = a.note("grr_t12m", ratio(t.cappedMRRT12, t.startMRRT12, noCustomers12))
		m.NRRT12 = a.note("nrr_t12m", ratio(t.retainedMRRT12, t.startMRRT12, noCustomers12))
		m.RenewalRate = a.note("renewal_rate", ratio(float64(t.renewed), float64(t.renewalsDue), noRenewals))
		m.RenewalAmountRate = a.note("renewal_amount_rate", ratio(t.renewedMRR, t.renewalMRRDue, noRenewals))
		out[i] = m
	}
	return out, nil
}

// CohortBy names what groups accounts into cohorts.
type CohortBy string

// Cohort groupings.
const (
	BySignupMonth CohortBy = "signup_month"
	ByChannel     CohortBy = "channel"
)

// ParseCohortBy returns the grouping s names.
func ParseCohortBy(s string) (CohortBy, error) {
	switch c := CohortBy(s); c {
	case BySignupMonth, ByChannel:
		return c, nil
	}
	return "", fmt.Errorf("cohorts by %q: want %s or %s", s, BySignupMonth, ByChannel)
}

// Cohort is the retention curve of the customers who first subscribed in
// one month, or through one channel. Point k of a curve is the end of the
// k-th month after the first subscription's month (0 is the end of that
// month itself); an account counts at k only when that month is in the
// range.
type Cohort struct {
	Cohort string `json:"cohort"`
	// Customers first subscribed in the range; NewMRR is their first
	// subscriptions' MRR.
	Customers int     `json:"customers"`
	NewMRR    float64 `json:"new_mrr"`
	// Logos[k] is the share of the cohort with MRR at point k; Revenue[k]
	// their MRR at k over their first MRR (NRR from the start).
	Logos   []Value `json:"logos"`
	Revenue []Value `json:"revenue"`
}

// Cohorts returns the retention curves of the customers who first
// subscribed in r, grouped by by.
func (b *Book) Cohorts(r Range, by CohortBy) ([]Cohort, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if _, err := ParseCohortBy(string(by)); err != nil {
		return nil, err
	}
	type curve struct {
		c          Cohort
		size, kept []int
		base, mrr  []float64
	}
	curves := map[string]*curve{}
	n := r.Months()
	for _, a := range b.order {
		k := slices.IndexFunc(a.steps, func(s step) bool { return s.move == MoveNew })
		if k < 0 {
			continue
		}
		first := MonthOf(a.steps[k].at)
		if first < r.From || first > r.To {
			continue
		}
		key := first.String()
		if by == ByChannel {
			key = a.channel
		}
		c := curves[key]
		if c == nil {
			c = &curve{c: Cohort{Cohort: key}, size: make([]int, n), kept: make([]int, n), base: make([]float64, n), mrr: make([]float64, n)}
			curves[key] = c
		}
		c.c.Customers++
		c.c.NewMRR += a.steps[k].mrr
		i := k
		mrr := 0.0
		for age := 0; first+Month(age) <= r.To; age++ {
			end := (first + Month(age)).End()
			for i < len(a.steps) && a.steps[i].at.Before(end) {
				mrr = a.steps[i].mrr
				i++
			}
			c.size[age]++
			c.base[age] += a.steps[k].mrr
			c.mrr[age] += mrr
			if mrr > 0 {
				c.kept[age]++
			}
		}
	}
	out := make([]Cohort, 0, len(curves))
	for _, c := range curves {
		ages := 0
		for ages < n && c.size[ages] > 0 {
			ages++
		}
		c.c.Logos, c.c.Revenue = make([]Value, ages), make([]Value, ages)
		for k := 0; k < ages; k++ {
			c.c.Logos[k] = Known(float64(c.kept[k]) / float64(c.size[k]))
			c.c.Revenue[k] = ratio(c.mrr[k], c.base[k], "the cohort's first subscriptions had no MRR")
		}
		out = append(out, c.c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cohort < out[j].Cohort })
	return out, nil
}
