package score

import "time"

// Query selects current scores of a task for the API's listings, highest
// probability first, ties by account id.
type Query struct {
	Task  string
	Owner string // empty for every owner
	Band  string // empty for every band
	PQL   *bool  // nil for every trial
	// After continues a listing after the row it names.
	After *Cursor
	Limit int
}

// Cursor names the last row of a page of a Query's listing.
type Cursor struct {
	Probability float64 `json:"p"`
	AccountID   string  `json:"a"`
}

// ListQuery selects a page of current scores for the dashboard's
// listings, which filter by the account's segment as well and order by
// probability or by expected revenue at risk.
type ListQuery struct {
	Task    string
	Owner   string // empty for every owner
	Band    string // empty for every band
	Segment string // empty for every segment
	PQL     *bool  // nil for every trial
	// AccountIDs, when not nil, keeps only these accounts.
	AccountIDs []string
	// RenewsBefore, when not zero, keeps only the accounts whose renewal
	// date lies in [RenewsFrom, RenewsBefore).
	RenewsFrom, RenewsBefore time.Time
	// ByRevenueAtRisk orders by revenue at risk instead of probability,
	// highest first either way, ties by account id.
	ByRevenueAtRisk bool
	// RisingBy, when positive, keeps only the scores whose probability
	// rose by at least RisingBy since the previous score, on an account
	// with ARR, and orders them by the expected ARR lost that the rise
	// added, (Probability − Previous) × ARR (RiseARR), highest first, ties
	// by account id; it overrides ByRevenueAtRisk.
	RisingBy float64
	// After continues a listing after the row it names; its Value is the
	// row's probability, revenue at risk or RiseARR, whichever the order
	// uses.
	After *ListCursor
	Limit int
	// WithoutDetail leaves each row's Detail empty, for listings that
	// show none (decoding details is most of a listing's cost).
	WithoutDetail bool
}

// ListCursor names the last row of a page of a ListQuery's listing.
type ListCursor struct {
	Value     float64 `json:"v"`
	AccountID string  `json:"a"`
}

// Row is a current score with what a listing shows of its account.
type Row struct {
	Score
	Name        string
	Segment     string
	Plan        string
	TrialEndsAt time.Time // zero when not a trial
	RenewalAt   time.Time // zero when unknown
	// OpenAlerts counts the account's open and acknowledged alerts.
	OpenAlerts int
}

// HealthPoint is one past score of a trend.
type HealthPoint struct {
	AsOf   time.Time
	Health float64
}

// BandTotal sums the current churn scores of one band.
type BandTotal struct {
	Band          string
	Accounts      int64
	ARR           float64
	RevenueAtRisk float64
}

// RiskTotals sums the current scores of a task: how many accounts are
// scored, their ARR, their expected revenue at risk and how many are in
// the red band.
type RiskTotals struct {
	Accounts      int64
	ARR           float64
	RevenueAtRisk float64
	Red           int64
}
