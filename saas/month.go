package saas

import (
	"fmt"
	"time"
)

// Month is a calendar month in UTC. Its text form is YYYY-MM.
type Month int32

// MonthOf returns the month t falls in, in UTC.
func MonthOf(t time.Time) Month {
	y, m, _ := t.UTC().Date()
	return Month(y*12 + int(m) - 1)
}

// ParseMonth parses YYYY-MM, or a date YYYY-MM-DD (its month).
func ParseMonth(s string) (Month, error) {
	for _, layout := range []string{"2006-01", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return MonthOf(t), nil
		}
	}
	return 0, fmt.Errorf("month %q is not YYYY-MM", s)
}

// Start returns the first instant of m.
func (m Month) Start() time.Time {
	return time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// End returns the first instant after m.
func (m Month) End() time.Time { return (m + 1).Start() }

// Days returns the number of days in m.
func (m Month) Days() int { return m.End().AddDate(0, 0, -1).Day() }

// String returns m as YYYY-MM.
func (m Month) String() string { return m.Start().Format("2006-01") }

// MarshalText encodes m as YYYY-MM.
func (m Month) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText decodes YYYY-MM.
func (m *Month) UnmarshalText(b []byte) error {
	v, err := ParseMonth(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Quarter returns the quarter m falls in, as YYYY-Qn.
func (m Month) Quarter() string { return fmt.Sprintf("%d-Q%d", int(m)/12, int(m)%12/3+1) }

// Range is an inclusive range of months.
type Range struct{ From, To Month }

// Validate reports an empty range or one longer than maxMonths.
func (r Range) Validate() error {
	switch {
	case r.To < r.From:
		return fmt.Errorf("range %s to %s is empty", r.From, r.To)
	case int(r.To-r.From) >= maxMonths:
		return fmt.Errorf("range %s to %s is longer than %d months", r.From, r.To, maxMonths)
	}
	return nil
}

// maxMonths bounds a report's range, so that a request cannot ask for a
// million months of empty rows.
const maxMonths = 1200

// Months returns the number of months in r.
func (r Range) Months() int { return int(r.To-r.From) + 1 }
