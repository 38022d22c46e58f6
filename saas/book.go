package saas

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/openchurn/churn/features"
)

// DefaultGrace is the grace period when Options.Grace is zero: the
// training tasks' default, so that the metrics and the churn labels agree
// on what a churn is.
const DefaultGrace = 14 * 24 * time.Hour

// DefaultChannelAttribute is the account attribute that names an
// account's acquisition channel when Options.ChannelAttribute is empty.
const DefaultChannelAttribute = "channel"

// NoChannel is the channel of an account without the channel attribute.
const NoChannel = "(none)"

// Options configure a Book. The zero value is valid.
type Options struct {
	// Grace is how soon a re-subscription must follow a churn for the
	// churn not to count: within it the subscription is taken to have
	// continued. Zero means DefaultGrace; negative means none.
	Grace time.Duration
	// GrossMargin, when in (0, 1], adjusts LTV and CAC payback for the
	// cost of serving revenue; zero means not configured.
	GrossMargin float64
	// KeyFeatures are the usage_events.feature values whose use during a
	// trial activates it; none leaves activation absent.
	KeyFeatures []string
	// CatalogueSize is the number of product features, the denominator of
	// adoption; zero leaves adoption absent.
	CatalogueSize int
	// TrialDays is the trial length used when an account has no
	// trial_ends_at; zero means features.DefaultTrialDays.
	TrialDays int
	// ChannelAttribute is the account attribute holding the acquisition
	// channel (accounts' attr_channel column); empty means
	// DefaultChannelAttribute.
	ChannelAttribute string
	// AnnualPlans names the plans billed by annual contract, whose
	// anniversaries are renewals; nil means plans whose name ends in
	// "annual" or "yearly".
	AnnualPlans []string
}

func (o Options) withDefaults() (Options, error) {
	if o.GrossMargin < 0 || o.GrossMargin > 1 || math.IsNaN(o.GrossMargin) {
		return o, fmt.Errorf("saas: gross margin %v is not between 0 and 1", o.GrossMargin)
	}
	if o.CatalogueSize < 0 || o.TrialDays < 0 {
		return o, fmt.Errorf("saas: catalogue size %d and trial days %d must not be negative", o.CatalogueSize, o.TrialDays)
	}
	switch {
	case o.Grace == 0:
		o.Grace = DefaultGrace
	case o.Grace < 0:
		o.Grace = 0
	}
	if o.TrialDays == 0 {
		o.TrialDays = features.DefaultTrialDays
	}
	if o.ChannelAttribute == "" {
		o.ChannelAttribute = DefaultChannelAttribute
	}
	return o, nil
}

// annual reports whether plan is billed by annual contract.
func (o *Options) annual(plan string) bool {
	if o.AnnualPlans != nil {
		return slices.Contains(o.AnnualPlans, plan)
	}
	for _, suffix := range []string{"annual", "yearly"} {
		if n := len(plan) - len(suffix); n >= 0 && equalFold(plan[n:], suffix) {
			return true
		}
	}
	return false
}

func equalFold(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// A Book holds what the reports need of the records, gathered in one pass
// over each table. Add accounts first: the other tables are joined to
// them. Methods are not safe for concurrent use.
type Book struct {
	opts     Options
	accounts map[string]*account
	order    []*account // in the order added, so reports are deterministic

	billingAcct *account // the account whose billing changes are arriving
	billingBuf  []features.BillingChange
	last        time.Time // the latest time of any record added

	usage   usageTally
	support supportTally
	spend   map[Month]*spendTally
	pqls    map[Month]int
}

// account is what the reports keep of one account.
type account struct {
	id          string
	channel     string
	trialStart  time.Time // zero for an account that never trialled
	trialEnd    time.Time
	convertedAt time.Time
	activated   bool
	pqlAt       time.Time
	// steps are the account's MRR changes after the grace rule, in time
	// order: MRR is steps[i].mrr from steps[i].at on.
	steps       []step
	billingSeen bool
	usageSeen   bool
}

// step is one change of an account's MRR.
type step struct {
	at   time.Time
	mrr  float64
	move Movement
	// annual reports whether the plan after the change is billed
	// annually.
	annual bool
}

// Movement classifies an MRR change.
type Movement uint8

// The MRR movements, by Stripe's rules.
const (
	MoveNone Movement = iota // the MRR did not change (a plan or seat change at the same price)
	MoveNew
	MoveExpansion
	MoveContraction
	MoveChurn
	MoveReactivation
)

// NewBook returns an empty Book, or an error naming the first invalid
// option.
func NewBook(opts Options) (*Book, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Book{opts: opts, accounts: map[string]*account{}, spend: map[Month]*spendTally{}, pqls: map[Month]int{},
		usage: usageTally{months: map[Month]*UsageMonth{}}, support: newSupportTally()}
	b.usage.rollup = NewUsageRollup(func(_ string, u UsageMonth) { b.AddUsageMonth(u) })
	if len(opts.KeyFeatures) > 0 {
		b.usage.keyFeatures = make(map[string]bool, len(opts.KeyFeatures))
		for _, f := range opts.KeyFeatures {
			b.usage.keyFeatures[f] = true
		}
	}
	return b, nil
}

// AddAccount adds an account. Adding one twice, or after records that
// refer to it, is an error.
func (b *Book) AddAccount(a *features.Account) error {
	if _, ok := b.accounts[a.AccountID]; ok {
		return fmt.Errorf("saas: account %s added twice", a.AccountID)
	}
	acc := &account{id: a.AccountID, channel: a.Attributes[b.opts.ChannelAttribute], convertedAt: a.ConvertedAt}
	if acc.channel == "" {
		acc.channel = NoChannel
	}
	if !a.TrialStartedAt.IsZero() {
		acc.trialStart, acc.trialEnd = a.TrialStartedAt, a.TrialEndsAt
		if acc.trialEnd.IsZero() {
			acc.trialEnd = a.TrialStartedAt.AddDate(0, 0, b.opts.TrialDays)
		}
	}
	b.accounts[a.AccountID] = acc
	b.order = append(b.order, acc)
	b.seen(a.CreatedAt)
	return nil
}

// account returns the account id. Records of an account the accounts
// table lacks (an orphan, which a dry run reports) still count, under no
// channel and no trial.
func (b *Book) account(id string) *account {
	a := b.accounts[id]
	if a == nil {
		a = &account{id: id, channel: NoChannel}
		b.accounts[id] = a
		b.order = append(b.order, a)
	}
	return a
}

// AddBillingChange adds a billing change. Changes must come in (account,
// time) order, an account's changes together, as the store reads them.
func (b *Book) AddBillingChange(c *features.BillingChange) error {
	if b.billingAcct == nil || b.billingAcct.id != c.AccountID {
		b.flushBilling()
		a := b.account(c.AccountID)
		if a.billingSeen {
			return fmt.Errorf("saas: billing changes of account %s are not together", c.AccountID)
		}
		a.billingSeen = true
		b.billingAcct = a
	} else if n := len(b.billingBuf); n > 0 && c.At.Before(b.billingBuf[n-1].At) {
		return fmt.Errorf("saas: billing change %s of account %s is out of time order", c.ChangeID, c.AccountID)
	}
	b.billingBuf = append(b.billingBuf, *c)
	b.seen(c.At)
	return nil
}

// flushBilling turns the buffered changes of the current account into
// its MRR steps.
func (b *Book) flushBilling() {
	if b.billingAcct != nil {
		b.billingAcct.steps = steps(b.billingBuf, b.opts.Grace, b.opts.annual)
	}
	b.billingAcct, b.billingBuf = nil, b.billingBuf[:0]
}

// steps applies Stripe's rules to one account's changes, in time order.
// A change's MRR is the subscription's monthly value after it; a churn,
// or a change to no MRR (a free plan), ends the subscription. A churn
// that a paid change follows within grace did not happen: the
// subscription continued, and the later change is measured against the
// MRR before the churn.
func steps(changes []features.BillingChange, grace time.Duration, annual func(string) bool) []step {
	var (
		out      []step
		cur      float64
		everPaid bool
	)
	for i := range changes {
		c := &changes[i]
		mrr := c.MRR
		if c.Kind == features.BillingChurn {
			mrr = 0
		}
		if mrr == 0 && cur > 0 && i+1 < len(changes) {
			if next := &changes[i+1]; next.Kind != features.BillingChurn && next.MRR > 0 && !next.At.After(c.At.Add(grace)) {
				continue
			}
		}
		s := step{at: c.At, mrr: mrr, annual: mrr > 0 && annual(c.Plan)}
		switch {
		case cur == 0 && mrr > 0 && everPaid:
			s.move = MoveReactivation
		case cur == 0 && mrr > 0:
			s.move, everPaid = MoveNew, true
		case cur > 0 && mrr == 0:
			s.move = MoveChurn
		case mrr > cur:
			s.move = MoveExpansion
		case mrr < cur:
			s.move = MoveContraction
		case len(out) == 0 || s.annual == out[len(out)-1].annual:
			continue // nothing the reports see changed
		}
		out = append(out, s)
		cur = mrr
	}
	return out
}

// AddSpend adds a row of the spend table, in any order.
func (b *Book) AddSpend(s *features.Spend) error {
	if s.Kind != features.SpendMarketing && s.Kind != features.SpendSales {
		return fmt.Errorf("saas: spend kind %q is not %s or %s", s.Kind, features.SpendMarketing, features.SpendSales)
	}
	m := MonthOf(s.Month)
	t := b.spend[m]
	if t == nil {
		t = &spendTally{byChannel: map[string]float64{}}
		b.spend[m] = t
	}
	t.total += s.Amount
	t.byChannel[s.Channel] += s.Amount
	if s.Kind == features.SpendSales {
		t.sales += s.Amount
	} else {
		t.marketing += s.Amount
	}
	return nil
}

type spendTally struct {
	total, marketing, sales float64
	byChannel               map[string]float64
}

// AddPQL records that the model first flagged the trial accountID as a
// product-qualified lead at at. Without any PQLs the funnel's PQL figures
// are absent.
func (b *Book) AddPQL(accountID string, at time.Time) {
	a := b.account(accountID)
	if a.pqlAt.IsZero() || at.Before(a.pqlAt) {
		if !a.pqlAt.IsZero() {
			b.pqls[MonthOf(a.pqlAt)]--
		}
		a.pqlAt = at
		b.pqls[MonthOf(at)]++
	}
}

// Finish completes the passes; call it after the last Add and before the
// reports.
func (b *Book) Finish() {
	b.flushBilling()
	b.usage.rollup.Flush()
	b.usage.acct = nil
}

// DataEnd returns the latest time of any record added (an account's
// creation, an event's time), or the zero time when there is none.
func (b *Book) DataEnd() time.Time { return b.last }

func (b *Book) seen(t time.Time) {
	if t.After(b.last) {
		b.last = t
	}
}
