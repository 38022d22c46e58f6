package dataset

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// day is the length of the days that label windows are counted in: label
// windows are durations in UTC, not calendar steps.
const day = 24 * time.Hour

// ParseDuration parses a fixed length of time given as whole days or weeks
// ("7d", "2w"), the spelling of every span flag, or as a Go duration
// ("36h", "90m0s"). Months have no fixed length, so "1m" is refused
// rather than read as one minute.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if sp, err := ParseSpan(s); err == nil {
		if sp.Months != 0 {
			return 0, fmt.Errorf("duration %q: a month has no fixed length; give days, e.g. 30d", s)
		}
		return time.Duration(sp.Days) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("duration %q: want whole days or weeks (7d, 2w) or a Go duration (36h)", s)
	}
	return d, nil
}

// FormatDuration writes d as ParseDuration reads it: whole days as "Nd",
// anything else as a Go duration.
func FormatDuration(d time.Duration) string {
	if d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// Duration is a time.Duration that JSON holds as FormatDuration writes it
// ("30d", "36h") and reads as ParseDuration does.
type Duration time.Duration

// MarshalJSON writes d as a string, e.g. "30d".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(FormatDuration(time.Duration(d)))
}

// UnmarshalJSON reads a string that ParseDuration accepts.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"30d\", got %s", b)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Days returns d in days.
func (d Duration) Days() float64 { return float64(d) / float64(day) }

// MarshalText writes s as ParseSpan reads it, e.g. "1m" or "7d".
func (s Span) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a span that ParseSpan accepts.
func (s *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
