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
