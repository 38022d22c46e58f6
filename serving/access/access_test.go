package access

import (
	"strings"
	"testing"
	"time"
)

func TestNewKey(t *testing.T) {
	a, ra, err := NewKey(Admin, "x", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := NewKey(Admin, "x", time.Now())
	if a == b || !strings.HasPrefix(a, secretPrefix) || ra.Hash != HashKey(a) || strings.Contains(ra.Hash, a) {
		t.Errorf("keys %q, %q; record %+v", a, b, ra)
	}
	if _, _, err := NewKey("root", "", time.Now()); err == nil {
		t.Error("a key with an unknown role was made")
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		role, need Role
		want       bool
	}{
		{Viewer, Viewer, true},
		{Viewer, Ingest, false},
		{Viewer, Admin, false},
		{Ingest, Viewer, true},
		{Ingest, Ingest, true},
		{Ingest, Admin, false},
		{Admin, Viewer, true},
		{Admin, Admin, true},
		{"root", Viewer, false},
		{Admin, "root", false},
		{"", "", false},
	}
	for _, tc := range tests {
		if got := tc.role.Allows(tc.need); got != tc.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tc.role, tc.need, got, tc.want)
		}
	}
}
