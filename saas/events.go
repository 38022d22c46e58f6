package saas

import (
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
)

// UsageMonth is what the reports need of the usage events of one month,
// of one account or summed over several: the customer-success report's
// active accounts and users, DAU/MAU and adoption. A UsageRollup computes
// it from an account's events; package store keeps the rollup at ingest,
// so that the reports need not read the events.
type UsageMonth struct {
	Month Month
	// Accounts counts the accounts with an event in the month.
	Accounts int
	// Users counts the distinct (account, user_id) pairs, user_id not
	// empty.
	Users int
	// UserDays sums, over the month's days (UTC), the distinct (account,
	// user_id) pairs with an event that day.
	UserDays int
	// Features sums, over the accounts, the distinct features each used.
	Features int
	// Last is the time of the latest event.
	Last time.Time
}

// UsageRollup rolls usage events up into one UsageMonth per account and
// month, in one pass over the events in (account, time) order: it holds
// the users and features of one account-month, so memory does not grow
// with the events.
type UsageRollup struct {
	emit                      func(accountID string, u UsageMonth)
	account                   string
	started                   bool
	cur                       UsageMonth
	day                       int64 // days since the Unix epoch
	users, features, dayUsers map[string]struct{}
}

// NewUsageRollup returns a rollup that calls emit with each account-month
// as it completes (Accounts is 1), and the last at Flush.
func NewUsageRollup(emit func(accountID string, u UsageMonth)) *UsageRollup {
	return &UsageRollup{emit: emit, users: map[string]struct{}{}, features: map[string]struct{}{}, dayUsers: map[string]struct{}{}}
}

// Add adds one event. An account's events must come together and in time
// order; Add reports one earlier than the account's event before it.
func (r *UsageRollup) Add(e *features.UsageEvent) error {
	d := e.At.Unix() / 86400
	switch {
	case !r.started || e.AccountID != r.account:
		r.Flush()
		r.started, r.account = true, e.AccountID
		r.cur.Month, r.day = MonthOf(e.At), d
	case e.At.Before(r.cur.Last):
		return fmt.Errorf("saas: usage event %s of account %s is out of time order", e.EventID, e.AccountID)
	case d != r.day: // a new month starts on a new day
		r.flushDay()
		r.day = d
		if m := MonthOf(e.At); m != r.cur.Month {
			r.flushMonth()
			r.cur.Month = m
		}
	}
	r.cur.Last = e.At
	if e.UserID != "" {
		r.users[e.UserID] = struct{}{}
		r.dayUsers[e.UserID] = struct{}{}
	}
	r.features[e.Feature] = struct{}{}
	return nil
}

func (r *UsageRollup) flushDay() {
	r.cur.UserDays += len(r.dayUsers)
	clear(r.dayUsers)
}

// flushMonth emits the current account-month, which has an event.
func (r *UsageRollup) flushMonth() {
	r.flushDay()
	r.cur.Accounts, r.cur.Users, r.cur.Features = 1, len(r.users), len(r.features)
	r.emit(r.account, r.cur)
	clear(r.users)
	clear(r.features)
	r.cur = UsageMonth{Month: r.cur.Month}
}

// Flush emits the account-month in progress, if any: call it after the
// last event.
func (r *UsageRollup) Flush() {
	if r.started {
		r.flushMonth()
	}
	r.started = false
}

// usageTally sums the UsageMonths of the book, from the events or from a
// rollup.
type usageTally struct {
	keyFeatures map[string]bool
	months      map[Month]*UsageMonth
	rollup      *UsageRollup
	acct        *account // the account whose events are arriving
}

// AddUsageEvent adds a usage event. Events must come in (account, time)
// order, an account's events together, as the store reads them. Add an
// account's events or its UsageMonths, not both.
func (b *Book) AddUsageEvent(e *features.UsageEvent) error {
	u := &b.usage
	if u.acct == nil || u.acct.id != e.AccountID {
		a := b.account(e.AccountID)
		if a.usageSeen {
			return fmt.Errorf("saas: usage events of account %s are not together", e.AccountID)
		}
		a.usageSeen = true
		u.acct = a
	}
	if err := u.rollup.Add(e); err != nil {
		return err
	}
	if a := u.acct; u.keyFeatures[e.Feature] && !a.trialStart.IsZero() && !e.At.Before(a.trialStart) && e.At.Before(a.trialEnd) {
		a.activated = true
	}
	return nil
}

// AddUsageMonth adds the usage of a month, of one account or summed over
// several (a UsageRollup's, or the store's sums of it), in any order; the
// same account-month must not be added twice.
func (b *Book) AddUsageMonth(u UsageMonth) {
	t := b.usage.months[u.Month]
	if t == nil {
		t = &UsageMonth{Month: u.Month}
		b.usage.months[u.Month] = t
	}
	t.Add(u)
	b.seen(u.Last)
}

// Add adds o, the usage of other accounts in the same month, to u.
func (u *UsageMonth) Add(o UsageMonth) {
	u.Accounts += o.Accounts
	u.Users += o.Users
	u.UserDays += o.UserDays
	u.Features += o.Features
	if o.Last.After(u.Last) {
		u.Last = o.Last
	}
}

// AddTrialKeyUse adds the first and the last use of a key feature by the
// trial account accountID from the start of its trial, before its
// trial_ends_at when that is set (store.EachTrialKeyUse): the trial is
// activated when the first falls within the trial. It is what the funnel
// needs of the events, in place of AddUsageEvent.
func (b *Book) AddTrialKeyUse(accountID string, first, last time.Time) {
	a := b.account(accountID)
	if b.usage.keyFeatures != nil && !a.trialStart.IsZero() && !first.Before(a.trialStart) && first.Before(a.trialEnd) {
		a.activated = true
	}
	b.seen(last)
}

// supportTally holds tickets, escalations and surveys by month. Ticket
// times are kept per month for the medians.
type supportTally struct {
	months   map[Month]*supportMonth
	quarters map[string]*npsTally
}

type supportMonth struct {
	opened          int
	byCategory      map[string]int
	responseHours   []float64 // of tickets first answered in the month
	resolutionHours []float64 // of tickets resolved in the month
	resolvedReplied int       // tickets resolved in the month with agent_replies recorded
	firstContact    int       // of those, resolved with one agent reply
	ratings         int       // CSAT ratings given in the month (tickets and surveys)
	satisfied       int       // of those, 4 or 5
	ratingSum       int
	negative        int // escalations
	positive        int
}

type npsTally struct{ promoters, passives, detractors int }

func newSupportTally() supportTally {
	return supportTally{months: map[Month]*supportMonth{}, quarters: map[string]*npsTally{}}
}

func (s *supportTally) month(t time.Time) *supportMonth { return s.inMonth(MonthOf(t)) }

func (s *supportTally) inMonth(m Month) *supportMonth {
	sm := s.months[m]
	if sm == nil {
		sm = &supportMonth{byCategory: map[string]int{}}
		s.months[m] = sm
	}
	return sm
}

// rate counts n ratings of score.
func (s *supportMonth) rate(score, n int) {
	s.ratings += n
	s.ratingSum += n * score
	if score >= 4 {
		s.satisfied += n
	}
}

// AddTicket adds a ticket, in any order. Each fact counts in the month it
// became known: the response in the month of first_response_at, the
// resolution and its rating in the month of resolved_at (opened_at for a
// rated ticket still open).
func (b *Book) AddTicket(t *features.Ticket) {
	s := &b.support
	b.seen(t.OpenedAt)
	b.seen(t.ResolvedAt)
	opened := s.month(t.OpenedAt)
	opened.opened++
	category := t.Category
	if category == "" {
		category = "(none)"
	}
	opened.byCategory[category]++
	if !t.FirstResponseAt.IsZero() {
		m := s.month(t.FirstResponseAt)
		m.responseHours = append(m.responseHours, t.FirstResponseAt.Sub(t.OpenedAt).Hours())
	}
	rated := opened
	if !t.ResolvedAt.IsZero() {
		m := s.month(t.ResolvedAt)
		m.resolutionHours = append(m.resolutionHours, t.ResolvedAt.Sub(t.OpenedAt).Hours())
		if t.AgentReplies > 0 {
			m.resolvedReplied++
			if t.AgentReplies == 1 {
				m.firstContact++
			}
		}
		rated = m
	}
	if t.CSAT > 0 {
		rated.rate(t.CSAT, 1)
	}
}

// AddEscalation adds an escalation, in any order.
func (b *Book) AddEscalation(e *features.Escalation) {
	b.AddEscalations(MonthOf(e.At), e.Direction, 1, e.At)
}

// AddEscalations adds n escalations of direction made in month m, the
// latest at last, in any order: what the report needs of the escalations
// table, counted by the store (in place of AddEscalation for each).
func (b *Book) AddEscalations(m Month, direction string, n int, last time.Time) {
	b.seen(last)
	sm := b.support.inMonth(m)
	if direction == features.DirectionPositive {
		sm.positive += n
	} else {
		sm.negative += n
	}
}

// AddSurveyResponse adds a survey response, in any order: NPS answers
// count in their quarter, CSAT answers with the tickets' ratings.
func (b *Book) AddSurveyResponse(r *features.SurveyResponse) {
	b.AddSurveyResponses(MonthOf(r.At), r.Kind, r.Score, 1, r.At)
}

// AddSurveyResponses adds n survey responses of kind that gave score in
// month m, the latest at last, in any order: what the report needs of the
// survey_responses table, counted by the store (in place of
// AddSurveyResponse for each).
func (b *Book) AddSurveyResponses(m Month, kind string, score, n int, last time.Time) {
	s := &b.support
	b.seen(last)
	if kind == features.SurveyCSAT {
		s.inMonth(m).rate(score, n)
		return
	}
	q := m.Quarter()
	t := s.quarters[q]
	if t == nil {
		t = &npsTally{}
		s.quarters[q] = t
	}
	switch {
	case score >= 9:
		t.promoters += n
	case score >= 7:
		t.passives += n
	default:
		t.detractors += n
	}
}
