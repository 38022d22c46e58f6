package features

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// History is everything known about one account: its accounts row and its
// event records. Each event slice is in time order (the table's time
// column, then its key), which is the order the builders sweep it in.
//
// A History says nothing about when it was read: the accounts row is a
// snapshot as of the data's end, so point-in-time code must not read its
// plan, seats or MRR, nor its lifecycle times unless they are before the
// time it looks from.
type History struct {
	AccountID string
	// Account is nil when events refer to an account the accounts table
	// does not hold (yet).
	Account     *Account
	Usage       []UsageEvent
	Tickets     []Ticket
	Escalations []Escalation
	Surveys     []SurveyResponse
	Billing     []BillingChange
}

// Add appends one record to h: an *Account replaces the accounts row, and
// an event goes to the end of its table's slice, so callers add events in
// time order or call SortByTime afterwards. It reports an error for a value
// that is not a pointer to a canonical record.
func (h *History) Add(rec any) error {
	switch r := rec.(type) {
	case *Account:
		h.Account = r
	case *UsageEvent:
		h.Usage = append(h.Usage, *r)
	case *Ticket:
		h.Tickets = append(h.Tickets, *r)
	case *Escalation:
		h.Escalations = append(h.Escalations, *r)
	case *SurveyResponse:
		h.Surveys = append(h.Surveys, *r)
	case *BillingChange:
		h.Billing = append(h.Billing, *r)
	default:
		return fmt.Errorf("features: %T is not a canonical record", rec)
	}
	return nil
}

// Reset empties h for another account, keeping its slices' capacity so
// that a sweep reusing one History allocates only for its largest account.
func (h *History) Reset(accountID string) {
	*h = History{
		AccountID:   accountID,
		Usage:       h.Usage[:0],
		Tickets:     h.Tickets[:0],
		Escalations: h.Escalations[:0],
		Surveys:     h.Surveys[:0],
		Billing:     h.Billing[:0],
	}
}

// CopyFrom makes h a deep copy of src, reusing h's slices' capacity. The
// account row is copied too, so h shares no memory with src and src may
// be reused afterwards.
func (h *History) CopyFrom(src *History) {
	account := h.Account
	h.Reset(src.AccountID)
	if src.Account != nil {
		if account == nil {
			account = new(Account)
		}
		*account = *src.Account
		h.Account = account
	}
	h.Usage = append(h.Usage, src.Usage...)
	h.Tickets = append(h.Tickets, src.Tickets...)
	h.Escalations = append(h.Escalations, src.Escalations...)
	h.Surveys = append(h.Surveys, src.Surveys...)
	h.Billing = append(h.Billing, src.Billing...)
}

// Events returns the number of event records in h (the accounts row is
// not an event).
func (h *History) Events() int {
	return len(h.Usage) + len(h.Tickets) + len(h.Escalations) + len(h.Surveys) + len(h.Billing)
}

// SortByTime puts each event slice of h in the order a History promises:
// by the table's time column, then its key. Sources that read records in
// another order (the store reads SQLite tables in key order, which is
// their storage order) call it once per account.
func (h *History) SortByTime() {
	slices.SortFunc(h.Usage, func(a, b UsageEvent) int { return byTime(a.At, b.At, a.EventID, b.EventID) })
	slices.SortFunc(h.Tickets, func(a, b Ticket) int { return byTime(a.OpenedAt, b.OpenedAt, a.TicketID, b.TicketID) })
	slices.SortFunc(h.Escalations, func(a, b Escalation) int { return byTime(a.At, b.At, a.EscalationID, b.EscalationID) })
	slices.SortFunc(h.Surveys, func(a, b SurveyResponse) int { return byTime(a.At, b.At, a.ResponseID, b.ResponseID) })
	slices.SortFunc(h.Billing, func(a, b BillingChange) int { return byTime(a.At, b.At, a.ChangeID, b.ChangeID) })
}

// byTime orders two records by time, then key.
func byTime(ta, tb time.Time, ka, kb string) int {
	if c := ta.Compare(tb); c != 0 {
		return c
	}
	return strings.Compare(ka, kb)
}
