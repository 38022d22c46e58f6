package features

import "time"

// AddMonths returns t plus n calendar months (n may be negative), with the
// day clamped to the last day of the target month, as billing systems
// bill: a subscription started on January 31 renews on February 29 in a
// leap year (28 otherwise), then on March 31. time.Time.AddDate would
// normalise February 31 to March 2 (or 3). The clock time is kept.
//
// Repeated steps must count from the anchor, AddMonths(anchor, k), not
// from the previous step: stepping from February 29 gives March 29.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	hh, mm, ss := t.Clock()
	return time.Date(first.Year(), first.Month(), min(d, last), hh, mm, ss, t.Nanosecond(), t.Location())
}

// Term is a stretch of time over which an account pays under one billing
// change: the as-of times in (From, To] see it as the latest change
// before them. To is zero while the change is the latest of all.
type Term struct {
	From, To time.Time
	// Anchor is the subscription's start, the latest new subscription or
	// reactivation (or the first billing change) at or before From.
	// Renewals fall on AddMonths(Anchor, k·Months), k ≥ 1.
	Anchor time.Time
	// Months is the billing term of the change's plan: 12 for plans named
	// annual or yearly, 1 for the others.
	Months int
}

// PaidTerms calls yield with each Term of billing, which must be in time
// order, in which the account pays (a positive MRR after a change that is
// not a churn), until yield returns false. It follows the builder's rules,
// so that days_to_renewal is lead exactly lead before each renewal it
// implies.
func PaidTerms(billing []BillingChange, yield func(Term) bool) {
	var anchor time.Time
	for i := range billing {
		c := &billing[i]
		if startsSubscription(c, !anchor.IsZero()) {
			anchor = c.At
		}
		if mrrOf(c) <= 0 || c.Kind == BillingChurn {
			continue
		}
		t := Term{From: c.At, Anchor: anchor, Months: termMonths(c.Plan)}
		if i+1 < len(billing) {
			t.To = billing[i+1].At
		}
		if !yield(t) {
			return
		}
	}
}
