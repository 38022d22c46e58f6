package alerts

import (
	"strings"
	"testing"
	"time"
)

func TestSeverityWeight(t *testing.T) {
	for sev, want := range map[string]int{"info": 1, "low": 2, "medium": 4, "high": 8, "critical": 16, "": 0, "urgent": 0, "High": 0} {
		if got := SeverityWeight(sev); got != want {
			t.Errorf("SeverityWeight(%q) = %d, want %d", sev, got, want)
		}
	}
	if _, err := DefaultRules().Merge(Rules{{Name: "usage_drop", Severity: "urgent"}}); err == nil || !strings.Contains(err.Error(), "urgent") {
		t.Errorf("a rule of severity urgent: %v, want an error naming it", err)
	}
}

func TestParseUntil(t *testing.T) {
	now := time.Date(2025, 6, 1, 15, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time // zero: refused
	}{
		{"2025-06-02", time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)},
		{" 2025-06-02 ", time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)},
		{"2025-06-01T16:00:00Z", time.Date(2025, 6, 1, 16, 0, 0, 0, time.UTC)},
		{"2025-06-01T18:00:00+02:00", time.Date(2025, 6, 1, 16, 0, 0, 0, time.UTC)},
		{"2026-06-02", time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)}, // 366 days ahead at most
		{"2025-06-01", time.Time{}},                                 // today's start is past
		{"2025-06-01T15:30:00Z", time.Time{}},                       // now is not the future
		{"2024-12-31", time.Time{}},
		{"2026-06-03", time.Time{}},
		{"3000-01-01", time.Time{}},
		{"", time.Time{}},
		{"tomorrow", time.Time{}},
		{"06/02/2025", time.Time{}},
		{"2025-02-30", time.Time{}},
	} {
		got, err := ParseUntil(tc.in, now)
		if !got.Equal(tc.want) || (err == nil) == tc.want.IsZero() {
			t.Errorf("ParseUntil(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckFilter(t *testing.T) {
	rs := DefaultRules()
	for _, tc := range []struct {
		rules, severities []string
		bad               string // what the error names; empty when fine
	}{
		{nil, nil, ""},
		{[]string{"band_drop", "trial_going_cold"}, []string{"high", "info"}, ""},
		{[]string{"band_drop", "nope"}, nil, `"nope"`},
		{nil, []string{"high", "urgent"}, `"urgent"`},
		{[]string{"Band_Drop"}, nil, `"Band_Drop"`},
	} {
		err := rs.CheckFilter(tc.rules, tc.severities)
		if (err == nil) != (tc.bad == "") || err != nil && !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("CheckFilter(%v, %v) = %v, want an error naming %s", tc.rules, tc.severities, err, tc.bad)
		}
	}
}

func TestCleanNote(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  renewal signed \n", "renewal signed", true},
		{strings.Repeat("é", MaxNote), strings.Repeat("é", MaxNote), true},
		{strings.Repeat("é", MaxNote+1), "", false},
		{"a\x00b", "", false},
		{"a\xffb", "", false},
	} {
		got, err := CleanNote(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("CleanNote(%.20q) = %.20q, %v; want %.20q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCursorAfter(t *testing.T) {
	r := &Row{Alert: Alert{ID: "al_1", OpenedAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}, Value: 9600}
	if c := CursorAfter(SortSeverityARR, r); c != (Cursor{Sort: SortSeverityARR, Value: 9600, OpenedAt: r.OpenedAt, ID: "al_1"}) {
		t.Errorf("severity × ARR cursor %+v", c)
	}
	if c := CursorAfter(SortNewest, r); c != (Cursor{Sort: SortNewest, OpenedAt: r.OpenedAt, ID: "al_1"}) {
		t.Errorf("newest cursor %+v", c)
	}
}
