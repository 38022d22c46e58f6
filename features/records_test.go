package features

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var (
	t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(2 * time.Hour)
)

// validator is satisfied by every canonical record.
type validator interface{ Validate() error }

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		record validator
		field  string // "" when the record is valid
	}{
		{"account ok", &Account{AccountID: "a1", CreatedAt: t0, Seats: 5, MRR: 250}, ""},
		{"account without id", &Account{CreatedAt: t0}, "account_id"},
		{"account without created_at (the store infers it)", &Account{AccountID: "a1", ChurnedAt: t0}, ""},
		{"account negative seats", &Account{AccountID: "a1", CreatedAt: t0, Seats: -1}, "seats"},
		{"account NaN mrr", &Account{AccountID: "a1", CreatedAt: t0, MRR: math.NaN()}, "mrr"},
		{"account churned before created", &Account{AccountID: "a1", CreatedAt: t1, ChurnedAt: t0}, "churned_at"},
		{"account trial end before start", &Account{AccountID: "a1", CreatedAt: t0, TrialStartedAt: t1, TrialEndsAt: t0}, "trial_ends_at"},
		{"account trial end without start", &Account{AccountID: "a1", CreatedAt: t0, TrialEndsAt: t1}, "trial_started_at"},

		{"usage ok", &UsageEvent{AccountID: "a1", Feature: "reports", At: t0, Count: 1}, ""},
		{"usage zero count", &UsageEvent{AccountID: "a1", Feature: "reports", At: t0}, "count"},
		{"usage without feature", &UsageEvent{AccountID: "a1", At: t0, Count: 1}, "feature"},
		{"usage negative errors", &UsageEvent{AccountID: "a1", Feature: "f", At: t0, Count: 1, Errors: -2}, "errors"},

		{"ticket ok", &Ticket{TicketID: "t1", AccountID: "a1", OpenedAt: t0, FirstResponseAt: t1, Priority: "high", CSAT: 4}, ""},
		{"ticket bad priority", &Ticket{TicketID: "t1", AccountID: "a1", OpenedAt: t0, Priority: "p1"}, "priority"},
		{"ticket response before open", &Ticket{TicketID: "t1", AccountID: "a1", OpenedAt: t1, FirstResponseAt: t0, Priority: "low"}, "first_response_at"},
		{"ticket csat out of range", &Ticket{TicketID: "t1", AccountID: "a1", OpenedAt: t0, Priority: "low", CSAT: 6}, "csat"},

		{"escalation ok", &Escalation{EscalationID: "e1", AccountID: "a1", At: t0, Direction: "negative", Severity: "high"}, ""},
		{"escalation bad direction", &Escalation{EscalationID: "e1", AccountID: "a1", At: t0, Direction: "down", Severity: "high"}, "direction"},

		{"nps ok", &SurveyResponse{ResponseID: "r1", AccountID: "a1", At: t0, Kind: "nps", Score: 0}, ""},
		{"nps out of range", &SurveyResponse{ResponseID: "r1", AccountID: "a1", At: t0, Kind: "nps", Score: 11}, "score"},
		{"csat zero", &SurveyResponse{ResponseID: "r1", AccountID: "a1", At: t0, Kind: "csat", Score: 0}, "score"},

		{"billing ok", &BillingChange{ChangeID: "b1", AccountID: "a1", At: t0, MRR: 100, Seats: 3, Kind: "expansion"}, ""},
		{"billing bad kind", &BillingChange{ChangeID: "b1", AccountID: "a1", At: t0, Kind: "upgrade"}, "kind"},

		// The limits of limits.go, at and just past each.
		{"id of 256 bytes", &Account{AccountID: strings.Repeat("é", 128), CreatedAt: t0}, ""},
		{"id of 257 bytes", &Account{AccountID: strings.Repeat("a", 257), CreatedAt: t0}, "account_id"},
		{"id with a control character", &Account{AccountID: "a\x1b[31m", CreatedAt: t0}, "account_id"},
		{"id with a NUL", &UsageEvent{AccountID: "a1", UserID: "u\x00", Feature: "f", At: t0, Count: 1}, "user_id"},
		{"id not UTF-8", &Ticket{TicketID: "t\xff", AccountID: "a1", OpenedAt: t0, Priority: "low"}, "ticket_id"},
		{"long escalation id", &Escalation{EscalationID: strings.Repeat("e", 10000), AccountID: "a1", At: t0, Direction: "negative", Severity: "high"}, "escalation_id"},
		{"owner with a newline", &Account{AccountID: "a1", Owner: "rep\n1", CreatedAt: t0}, "owner"},
		{"note of 8 KiB", &Escalation{EscalationID: "e1", AccountID: "a1", At: t0, Direction: "negative", Severity: "high", Note: strings.Repeat("x\n", 4096)}, ""},
		{"note past 8 KiB", &Escalation{EscalationID: "e1", AccountID: "a1", At: t0, Direction: "negative", Severity: "high", Note: strings.Repeat("x", 8193)}, "note"},
		{"note with a NUL", &Escalation{EscalationID: "e1", AccountID: "a1", At: t0, Direction: "negative", Severity: "high", Note: "a\x00b"}, "note"},
		{"name not UTF-8", &Account{AccountID: "a1", Name: "\xc3(", CreatedAt: t0}, "name"},
		{"mrr at 1e12", &BillingChange{ChangeID: "b1", AccountID: "a1", At: t0, MRR: 1e12, Kind: "new"}, ""},
		{"mrr 1e308", &BillingChange{ChangeID: "b1", AccountID: "a1", At: t0, MRR: 1e308, Kind: "new"}, "mrr"},
		{"account mrr +Inf", &Account{AccountID: "a1", CreatedAt: t0, MRR: math.Inf(1)}, "mrr"},
		{"count at 1e9", &UsageEvent{AccountID: "a1", Feature: "f", At: t0, Count: 1e9}, ""},
		{"count of MaxInt64", &UsageEvent{AccountID: "a1", Feature: "f", At: t0, Count: math.MaxInt64}, "count"},
		{"errors past 1e9", &UsageEvent{AccountID: "a1", Feature: "f", At: t0, Count: 1, Errors: 1e9 + 1}, "errors"},
		{"duration past 1e9 s", &UsageEvent{AccountID: "a1", Feature: "f", At: t0, Count: 1, DurationS: 2e9}, "duration_s"},
		{"seats at 1e7", &Account{AccountID: "a1", CreatedAt: t0, Seats: 1e7}, ""},
		{"seats past 1e7", &BillingChange{ChangeID: "b1", AccountID: "a1", At: t0, Seats: 1e7 + 1, Kind: "new"}, "seats"},
		{"event in 1970", &UsageEvent{AccountID: "a1", Feature: "f", At: EarliestEvent, Count: 1}, ""},
		{"event in 1800", &UsageEvent{AccountID: "a1", Feature: "f", At: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), Count: 1}, "at"},
		{"event in 3000", &SurveyResponse{ResponseID: "r1", AccountID: "a1", At: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), Kind: "nps"}, "at"},
		{"event within the lead", &UsageEvent{AccountID: "a1", Feature: "f", At: time.Now().Add(23 * time.Hour), Count: 1}, ""},
		{"ticket resolved in 2999", &Ticket{TicketID: "t1", AccountID: "a1", OpenedAt: t0, ResolvedAt: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC), Priority: "low"}, "resolved_at"},
		{"renewal in 2100 is a plan", &Account{AccountID: "a1", CreatedAt: t0, RenewalAt: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}, ""},
		{"created in 2100", &Account{AccountID: "a1", CreatedAt: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}, "created_at"},
		{"attribute with a NUL", &Account{AccountID: "a1", CreatedAt: t0, Attributes: map[string]string{"country": "d\x00e"}}, "attr_country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.record.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("Validate() names column %q (%v), want %q", fe.Field, err, tt.field)
			}
		})
	}
}

func TestParseTable(t *testing.T) {
	tests := []struct {
		in   string
		want Table
		ok   bool
	}{
		{"accounts", Accounts, true},
		{"Usage", UsageEvents, true},
		{"usage-events", UsageEvents, true},
		{"surveys", SurveyResponses, true},
		{"billing_changes", BillingChanges, true},
		{"invoices", "", false},
	}
	for _, tt := range tests {
		got, err := ParseTable(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTable(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestTablesAreComplete(t *testing.T) {
	for _, tab := range Tables {
		cols := tab.Columns()
		if len(cols) == 0 {
			t.Fatalf("%s has no columns", tab)
		}
		if cols[1] != "account_id" && tab != Accounts {
			t.Errorf("%s: second column is %q, want account_id", tab, cols[1])
		}
		if tc := tab.TimeColumn(); (tc == "") != (tab == Accounts) {
			t.Errorf("%s: time column %q", tab, tc)
		}
	}
}

func ExampleParseTable() {
	t, _ := ParseTable("usage")
	fmt.Println(t, t.Key(), t.TimeColumn())
	// Output: usage_events event_id at
}

func TestSetEventLead(t *testing.T) {
	defer SetEventLead(0)
	e := &UsageEvent{AccountID: "a1", Feature: "f", At: time.Now().Add(72 * time.Hour), Count: 1}
	if err := e.Validate(); err == nil {
		t.Fatal("an event 3 days ahead passed the default lead of a day")
	}
	SetEventLead(96 * time.Hour)
	if err := e.Validate(); err != nil {
		t.Fatalf("with a lead of 4 days: %v", err)
	}
	SetEventLead(0)
	if got := EventLead(); got != DefaultEventLead {
		t.Errorf("SetEventLead(0) left the lead at %v", got)
	}
}
