package saas

import (
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
)

// usageTally sums usage per month across the book, from one pass over
// the events in (account, time) order: distinct users and features are
// counted per account and month, then the sets are emptied, so memory
// does not grow with the book.
type usageTally struct {
	keyFeatures map[string]bool
	months      map[Month]*usageMonth

	acct     *account
	last     time.Time
	month    Month
	day      int64 // days since the Unix epoch
	users    map[string]struct{}
	features map[string]struct{}
	dayUsers map[string]struct{}
}

type usageMonth struct {
	activeAccounts int
	activeUsers    int // distinct (account, user) pairs
	userDays       int // Σ over days of distinct (account, user) pairs active that day
	featuresUsed   int // Σ over active accounts of distinct features used
}

func newUsageTally(keyFeatures []string) usageTally {
	u := usageTally{months: map[Month]*usageMonth{}, users: map[string]struct{}{},
		features: map[string]struct{}{}, dayUsers: map[string]struct{}{}}
	if len(keyFeatures) > 0 {
		u.keyFeatures = make(map[string]bool, len(keyFeatures))
		for _, f := range keyFeatures {
			u.keyFeatures[f] = true
		}
	}
	return u
}

// AddUsageEvent adds a usage event. Events must come in (account, time)
// order, an account's events together, as the store reads them.
func (b *Book) AddUsageEvent(e *features.UsageEvent) error {
	u := &b.usage
	if u.acct == nil || u.acct.id != e.AccountID {
		u.flush()
		a := b.account(e.AccountID)
		if a.usageSeen {
			return fmt.Errorf("saas: usage events of account %s are not together", e.AccountID)
		}
		a.usageSeen = true
		u.acct, u.month, u.day = a, MonthOf(e.At), e.At.Unix()/86400
	} else if e.At.Before(u.last) {
		return fmt.Errorf("saas: usage event %s of account %s is out of time order", e.EventID, e.AccountID)
	}
	u.last = e.At
	b.seen(e.At)
	if d := e.At.Unix() / 86400; d != u.day { // a new month starts on a new day
		u.flushDay()
		u.day = d
		if m := MonthOf(e.At); m != u.month {
			u.flushMonth()
			u.month = m
		}
	}
	if e.UserID != "" {
		u.users[e.UserID] = struct{}{}
		u.dayUsers[e.UserID] = struct{}{}
	}
	u.features[e.Feature] = struct{}{}
	if a := u.acct; u.keyFeatures[e.Feature] && !a.trialStart.IsZero() && !e.At.Before(a.trialStart) && e.At.Before(a.trialEnd) {
		a.activated = true
	}
	return nil
}

func (u *usageTally) monthTally(m Month) *usageMonth {
	t := u.months[m]
	if t == nil {
		t = &usageMonth{}
		u.months[m] = t
	}
	return t
}

func (u *usageTally) flushDay() {
	if len(u.dayUsers) > 0 {
		u.monthTally(MonthOf(time.Unix(u.day*86400, 0))).userDays += len(u.dayUsers)
		clear(u.dayUsers)
	}
}

func (u *usageTally) flushMonth() {
	u.flushDay()
	if len(u.features) > 0 {
		t := u.monthTally(u.month)
		t.activeAccounts++
		t.activeUsers += len(u.users)
		t.featuresUsed += len(u.features)
		clear(u.users)
		clear(u.features)
	}
}

// flush completes the current account.
func (u *usageTally) flush() {
	if u.acct != nil {
		u.flushMonth()
	}
	u.acct = nil
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

func (s *supportTally) month(t time.Time) *supportMonth {
	m := MonthOf(t)
	sm := s.months[m]
	if sm == nil {
		sm = &supportMonth{byCategory: map[string]int{}}
		s.months[m] = sm
	}
	return sm
}

func (s *supportMonth) rate(score int) {
	s.ratings++
	s.ratingSum += score
	if score >= 4 {
		s.satisfied++
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
		rated.rate(t.CSAT)
	}
}

// AddEscalation adds an escalation, in any order.
func (b *Book) AddEscalation(e *features.Escalation) {
	b.seen(e.At)
	m := b.support.month(e.At)
	if e.Direction == features.DirectionPositive {
		m.positive++
	} else {
		m.negative++
	}
}

// AddSurveyResponse adds a survey response, in any order: NPS answers
// count in their quarter, CSAT answers with the tickets' ratings.
func (b *Book) AddSurveyResponse(r *features.SurveyResponse) {
	s := &b.support
	b.seen(r.At)
	if r.Kind == features.SurveyCSAT {
		s.month(r.At).rate(r.Score)
		return
	}
	q := MonthOf(r.At).Quarter()
	t := s.quarters[q]
	if t == nil {
		t = &npsTally{}
		s.quarters[q] = t
	}
	switch {
	case r.Score >= 9:
		t.promoters++
	case r.Score >= 7:
		t.passives++
	default:
		t.detractors++
	}
}
