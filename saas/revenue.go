package saas

import "math"

// revenue holds, per month of a report's span, what the MRR-based
// reports share: movements and the tallies of accounts' MRR at month
// boundaries. It is built in one walk over every account's steps.
type revenue struct {
	r  Range
	lo Month // r.From − 11, so that trailing-12-month figures have their start
	// Per month of r, indexed by m − r.From.
	months []revenueMonth
	// newByChannel counts the first subscriptions of r by channel.
	newByChannel map[string]int
}

type revenueMonth struct {
	startMRR, endMRR          float64
	customers, startCustomers int
	// Movements of the month.
	newMRR, expansion, contraction, churned, reactivation float64
	newLogos, churnedLogos, reactivatedLogos              int
	// Customers at the start of the month and where they stand at its end.
	retainedLogos        int
	retainedMRR          float64 // their MRR at the end, expansion included
	cappedMRR            float64 // Σ min(end, start): without expansion
	startT12             int     // customers at the start of the month 11 months before
	retainedT12          int
	startMRRT12          float64
	retainedMRRT12       float64
	cappedMRRT12         float64
	renewalsDue, renewed int
	renewalMRRDue        float64
	renewedMRR           float64
}

// revenueOf walks every account once over r.
func (b *Book) revenueOf(r Range) *revenue {
	rv := &revenue{r: r, lo: r.From - 11, months: make([]revenueMonth, r.Months()), newByChannel: map[string]int{}}
	n := int(r.To-rv.lo) + 2 // boundaries: the start of every month from lo, and the end of r.To
	bounds := make([]float64, n)
	annual := make([]bool, n)     // whether the plan at the boundary is annual
	termStart := make([]Month, n) // the month its annual term began
	for _, a := range b.order {
		if len(a.steps) == 0 {
			continue
		}
		rv.boundaries(a, bounds, annual, termStart)
		for i := range rv.months {
			m := r.From + Month(i)
			j := int(m - rv.lo)
			s, e, s12 := bounds[j], bounds[j+1], bounds[j-11]
			t := &rv.months[i]
			t.startMRR += s
			t.endMRR += e
			if e > 0 {
				t.customers++
			}
			if s > 0 {
				t.startCustomers++
				t.retainedMRR += e
				t.cappedMRR += math.Min(s, e)
				if e > 0 {
					t.retainedLogos++
				}
				if annual[j] && (m-termStart[j])%12 == 0 && m != termStart[j] {
					t.renewalsDue++
					t.renewalMRRDue += s
					if e > 0 {
						t.renewed++
						t.renewedMRR += e
					}
				}
			}
			if s12 > 0 {
				t.startT12++
				t.startMRRT12 += s12
				t.retainedMRRT12 += e
				t.cappedMRRT12 += math.Min(s12, e)
				if e > 0 {
					t.retainedT12++
				}
			}
		}
		for k, st := range a.steps {
			i := int(MonthOf(st.at) - r.From)
			if i < 0 || i >= len(rv.months) {
				continue
			}
			t := &rv.months[i]
			prev := 0.0
			if k > 0 {
				prev = a.steps[k-1].mrr
			}
			switch st.move {
			case MoveNew:
				t.newMRR += st.mrr
				t.newLogos++
				rv.newByChannel[a.channel]++
			case MoveReactivation:
				t.reactivation += st.mrr
				t.reactivatedLogos++
			case MoveChurn:
				t.churned += prev
				t.churnedLogos++
			case MoveExpansion:
				t.expansion += st.mrr - prev
			case MoveContraction:
				t.contraction += prev - st.mrr
			}
		}
	}
	return rv
}

// boundaries fills bounds[k] with a's MRR at the start of month lo+k, and
// annual and termStart with its contract then.
func (rv *revenue) boundaries(a *account, bounds []float64, annual []bool, termStart []Month) {
	i := 0
	var (
		mrr  float64
		ann  bool
		term Month
	)
	for k := range bounds {
		t := (rv.lo + Month(k)).Start()
		for i < len(a.steps) && a.steps[i].at.Before(t) {
			st := &a.steps[i]
			if st.annual && (!ann || st.move == MoveNew || st.move == MoveReactivation) {
				term = MonthOf(st.at)
			}
			mrr, ann = st.mrr, st.annual
			i++
		}
		bounds[k], annual[k], termStart[k] = mrr, ann, term
	}
}
