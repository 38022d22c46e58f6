package today

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
)

// The tasks of the scores the view reads.
const (
	taskChurn      = score.TaskChurn
	taskConversion = score.TaskConversion
)

// RenewalDays is how far ahead of the latest scores' as-of date renewals
// are listed.
const RenewalDays = 60

// MinRise is the least rise of churn probability since the previous
// score that counts as a health drop: half a percentage point, which over
// a 30-day horizon is 2 to 5 health points for accounts from 10% down to
// 1% risk, so that rounding noise ("health 75 → 75") is not listed.
const MinRise = 0.005

// How much of each source the view reads, and how many items it shows.
const (
	// MaxAlerts bounds the alerts read; at that many the count says "at
	// least" (Counts.AlertsCapped).
	MaxAlerts = 500
	// TopDrops and TopRenewals are how many of the biggest drops and of
	// the renewals with most expected ARR lost enter the list.
	TopDrops    = 10
	TopRenewals = 25
	// MaxItems bounds the ranked list.
	MaxItems = 50
)

// Rule states Rank's order for a person, as the page and the API show it.
const Rule = "Ranked by expected ARR lost: churn probability × ARR of the account's current score " +
	"(for a trial, conversion probability × the ARR it brings, lost if it goes cold). " +
	"A health drop (churn probability up by at least half a point since the previous score) " +
	"is listed by how much expected ARR lost its rise added, (p − previous p) × ARR."

// Store is what Build reads.
type Store interface {
	Alerts(ctx context.Context, q alerts.Query) ([]alerts.Row, error)
	ScoreRows(ctx context.Context, q score.ListQuery) ([]score.Row, error)
	CountScoreRows(ctx context.Context, q score.ListQuery) (int64, error)
	HealthTrends(ctx context.Context, task string, accountIDs []string, n int) (map[string][]score.HealthPoint, error)
}

// Counts says how many accounts each source holds, beyond the ones the
// list shows.
type Counts struct {
	// Alerts counts open and acknowledged alerts, at most MaxAlerts;
	// AlertsCapped says there may be more.
	Alerts       int
	AlertsCapped bool
	// Drops counts the accounts whose churn probability rose by MinRise
	// or more since their previous score (on an account with ARR).
	Drops int64
	// Renewals counts the scored customers renewing in the window.
	Renewals int64
}

// Drop is an account's health drop since its previous score.
type Drop struct {
	// PreviousHealth is the health of the previous score, NaN when that
	// score is not stored.
	PreviousHealth float64
	Health         float64
	// RiseARR is the expected ARR lost the rise added (score.RiseARR).
	RiseARR float64
}

// Item is one account of the list and why it is on it.
type Item struct {
	// Row is the account's current churn score with its listing fields;
	// for an account with alerts but no churn score, its conversion
	// score; for one with neither, only AccountID and Owner are set.
	score.Row
	// Alerts are its open and acknowledged alerts, latest opened first.
	Alerts []alerts.Row
	// Drop is set when its health is one of the biggest drops.
	Drop *Drop
	// Renews is set when it renews in the window, on Row.RenewalAt.
	Renews bool
	// Value is the expected ARR lost by which the list is ranked (Rank).
	Value float64
}

// View is the Today view of one owner's book, or of every owner's.
type View struct {
	// Owner is the owner whose book it is, empty for every owner's.
	Owner string
	// AsOf is the latest as-of time of the current scores, zero when none
	// is stored; renewals are listed from it to RenewalsBefore.
	AsOf, RenewalsBefore time.Time
	Counts               Counts
	// Items are ranked by Rank, at most MaxItems.
	Items []Item
}

// Sources are what Rank merges: the alerts with the current scores of
// their accounts (churn and conversion rows, in any order), the biggest
// drops and the renewals, and the previous health of the drops' accounts
// by account id.
type Sources struct {
	Alerts         []alerts.Row
	AlertRows      []score.Row
	Drops          []score.Row
	Renewals       []score.Row
	PreviousHealth map[string]float64
}

// Rank merges the sources into one item per account and orders the items
// by Value, highest first, ties by account id.
//
// The rule: an item's Value is the expected ARR lost if no one acts on
// the account, the revenue at risk of its current score. For a customer
// that is churn probability × ARR. An account known only by a trial's
// conversion score (a trial alert) is valued at conversion probability ×
// the ARR it brings if it converts, the expected ARR won that is lost if
// the trial goes cold. An account with neither is valued 0. A health drop
// on its own is valued at its rise, (p − previous p) × ARR, the expected
// ARR lost it added since the previous score; an account that also has an
// alert or a renewal keeps the larger revenue at risk.
func Rank(src Sources) []Item {
	byID := map[string]*Item{}
	item := func(r score.Row) *Item {
		it, ok := byID[r.AccountID]
		if !ok {
			it = &Item{Row: r}
			byID[r.AccountID] = it
		} else if it.Task != taskChurn && r.Task == taskChurn {
			it.Row = r
		}
		return it
	}
	for _, r := range src.AlertRows {
		item(r)
	}
	for _, a := range src.Alerts {
		it := item(score.Row{Score: score.Score{AccountID: a.AccountID, Owner: a.Owner}})
		it.Alerts = append(it.Alerts, a)
	}
	for _, r := range src.Renewals {
		item(r).Renews = true
	}
	for _, r := range src.Drops {
		prev, ok := src.PreviousHealth[r.AccountID]
		if !ok {
			prev = math.NaN()
		}
		item(r).Drop = &Drop{PreviousHealth: prev, Health: r.Health, RiseARR: r.RiseARR()}
	}
	items := make([]Item, 0, len(byID))
	for _, it := range byID {
		it.Value = it.RevenueAtRisk
		if len(it.Alerts) == 0 && !it.Renews && it.Drop != nil {
			it.Value = it.Drop.RiseARR
		}
		items = append(items, *it)
	}
	slices.SortFunc(items, func(a, b Item) int {
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
		return cmp.Compare(a.AccountID, b.AccountID)
	})
	return items
}

// Build reads owner's book (every owner's for "") from s and ranks it.
// asOf is the latest as-of time of the current scores (the store's
// Freshness, which callers cache), from which renewals are listed; zero
// lists none.
func Build(ctx context.Context, s Store, owner string, asOf time.Time) (*View, error) {
	v := &View{Owner: owner, AsOf: asOf}
	var (
		src Sources
		err error
	)
	if src.Alerts, err = s.Alerts(ctx, alerts.Query{Owner: owner, Status: alerts.StatusActive, Limit: MaxAlerts}); err != nil {
		return nil, err
	}
	v.Counts.Alerts, v.Counts.AlertsCapped = len(src.Alerts), len(src.Alerts) == MaxAlerts
	var ids []string
	seen := map[string]bool{}
	for _, a := range src.Alerts {
		if !seen[a.AccountID] {
			ids, seen[a.AccountID] = append(ids, a.AccountID), true
		}
	}
	for _, task := range []string{taskChurn, taskConversion} {
		if len(ids) == 0 {
			break
		}
		rows, err := s.ScoreRows(ctx, score.ListQuery{Task: task, AccountIDs: ids, Limit: len(ids), WithoutDetail: true})
		if err != nil {
			return nil, err
		}
		src.AlertRows = append(src.AlertRows, rows...)
	}
	drops := score.ListQuery{Task: taskChurn, Owner: owner, RisingBy: MinRise, Limit: TopDrops, WithoutDetail: true}
	if src.Drops, err = s.ScoreRows(ctx, drops); err != nil {
		return nil, err
	}
	if v.Counts.Drops, err = s.CountScoreRows(ctx, drops); err != nil {
		return nil, err
	}
	if !asOf.IsZero() {
		v.RenewalsBefore = asOf.AddDate(0, 0, RenewalDays)
		renewals := score.ListQuery{Task: taskChurn, Owner: owner, RenewsFrom: asOf, RenewsBefore: v.RenewalsBefore,
			ByRevenueAtRisk: true, Limit: TopRenewals, WithoutDetail: true}
		if src.Renewals, err = s.ScoreRows(ctx, renewals); err != nil {
			return nil, err
		}
		if v.Counts.Renewals, err = s.CountScoreRows(ctx, renewals); err != nil {
			return nil, err
		}
	}
	dropIDs := make([]string, len(src.Drops))
	for i, r := range src.Drops {
		dropIDs[i] = r.AccountID
	}
	trends, err := s.HealthTrends(ctx, taskChurn, dropIDs, 2)
	if err != nil {
		return nil, err
	}
	src.PreviousHealth = map[string]float64{}
	for id, pts := range trends {
		if len(pts) == 2 {
			src.PreviousHealth[id] = pts[0].Health
		}
	}
	v.Items = Rank(src)
	if len(v.Items) > MaxItems {
		v.Items = v.Items[:MaxItems]
	}
	return v, nil
}
