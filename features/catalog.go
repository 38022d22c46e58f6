package features

import (
	"fmt"
	"slices"
	"time"

	"github.com/openchurn/churn/models"
)

// CatalogVersion names the feature catalog: the names, order, kinds and
// meanings of the values a Vector holds. It changes whenever any of them
// changes, so that a model refuses vectors built by another catalog.
// TestCatalogFingerprint fails when the catalog changes but this does not.
const CatalogVersion = "3"

// Group is a family of features. Explanations and the health score's
// components are summed by group.
type Group string

// The feature groups.
const (
	Usage        Group = "usage"
	Support      Group = "support"
	Sentiment    Group = "sentiment"
	Commercial   Group = "commercial"
	Trial        Group = "trial"
	Firmographic Group = "firmographic"
)

// Feature describes one value of a Vector.
type Feature struct {
	// Name is stable: it names the column of datasets and the field of
	// the API, and only changes with CatalogVersion.
	Name  string `json:"name"`
	Group Group  `json:"group"`
	// Window is the span of time before the as-of time T that the value
	// summarises: "30d" (the 30 days before T), "all" (everything known
	// before T) or "at T" (a state as of T). Day windows are whole UTC
	// days: the N-day window is [D − N days, T), D being the first
	// midnight at or after T, so that usage can be kept in daily buckets;
	// for the usual midnight T it is exactly the N days before T.
	Window string `json:"window"`
	// Unit is what the value counts or measures, e.g. "days" or "ratio";
	// "code" for categorical features.
	Unit string      `json:"unit"`
	Kind models.Kind `json:"kind"`
	// Description is one line a customer-success rep can read.
	Description string `json:"description"`
	// Missing says when the value is NaN. Empty means never: a zero is a
	// true zero, such as "no tickets in 30 days".
	Missing string `json:"missing,omitempty"`
	// Categories is the dictionary of a categorical feature: code i stands
	// for Categories[i]. It is nil for numeric features.
	Categories []string `json:"categories,omitempty"`
}

// Positions of the features in a Vector, in catalog order.
const (
	fFeaturesUsed = iota
	fAdoption
	fActiveDays
	fActiveUsers
	fDAUMAU
	fSeatUtilisation
	fDaysSinceUse
	fUsageTrend
	fKeyFeatures
	fDAUPerSeat14
	fDAUPerSeat60
	fUsageTrend14
	fUsageDrop7

	fTickets30
	fTickets90
	fTicketsPerSeat
	fOpenTickets
	fFirstResponse
	fResolution
	fCSAT
	fUrgentShare
	fTicketSpike
	fSLABreaches
	fNegEscalations
	fPosEscalations
	fDaysSinceNeg

	fNPS
	fDetractor
	fNPSChange
	fNPSMean

	fMRR
	fTenure
	fDaysToRenewal
	fMRRChange
	fContractions
	fPlan
	fSeats

	fTrialDay
	fTrialDaysLeft
	fTrialUsers
	fTrialKeyFeatures
	fTrialActiveDays

	fSegment

	numFeatures
)

// Windows of the windowed features, in days.
const (
	weekWindow     = 7
	recentWindow   = 14
	shortWindow    = 30
	monthWindow    = 28 // four weeks: the baseline of week-on-month usage
	trendWindow    = 60
	longWindow     = 90
	halfYearWindow = 180
)

// dauPrior is added to both average daily active user counts of
// usage_trend_14_60d, so that an idle day or two of a tiny account does
// not read as a collapse.
const dauPrior = 0.1

// catalog lists the features in Vector order. Categories are filled in by
// Config.Catalog.
var catalog = [numFeatures]Feature{
	fFeaturesUsed: {Name: "features_used_30d", Group: Usage, Window: "30d", Unit: "features",
		Description: "Distinct product features used in the last 30 days"},
	fAdoption: {Name: "feature_adoption", Group: Usage, Window: "all", Unit: "ratio",
		Description: "Share of the product's features the account has ever used",
		Missing:     "no catalogue size is configured"},
	fActiveDays: {Name: "active_days_30d", Group: Usage, Window: "30d", Unit: "days",
		Description: "Days with any product use in the last 30 days"},
	fActiveUsers: {Name: "active_users_30d", Group: Usage, Window: "30d", Unit: "users",
		Description: "Distinct users active in the last 30 days"},
	fDAUMAU: {Name: "dau_mau_30d", Group: Usage, Window: "30d", Unit: "ratio",
		Description: "Average daily active users over monthly active users (stickiness)",
		Missing:     "no user was active in the last 30 days"},
	fSeatUtilisation: {Name: "seat_utilisation_30d", Group: Usage, Window: "30d", Unit: "ratio",
		Description: "Active users in the last 30 days per paid seat",
		Missing:     "no paid seats are known (no billing change yet, or zero seats)"},
	fDaysSinceUse: {Name: "days_since_last_use", Group: Usage, Window: "all", Unit: "days",
		Description: "Days since anyone last used the product",
		Missing:     "the product was never used"},
	fUsageTrend: {Name: "usage_trend_30d", Group: Usage, Window: "60d", Unit: "log ratio",
		Description: "Active user-days in the last 30 days against the 30 before, as ln((last+1)/(previous+1))",
		Missing:     "the account is younger than 60 days, or has no accounts row"},
	fKeyFeatures: {Name: "key_features_used_30d", Group: Usage, Window: "30d", Unit: "features",
		Description: "Distinct key features used in the last 30 days",
		Missing:     "no key features are configured"},
	fDAUPerSeat14: {Name: "dau_per_seat_14d", Group: Usage, Window: "14d", Unit: "ratio",
		Description: "Average daily active users over the last 14 days per paid seat",
		Missing:     "no paid seats are known"},
	fDAUPerSeat60: {Name: "dau_per_seat_60d", Group: Usage, Window: "60d", Unit: "ratio",
		Description: "Average daily active users over the last 60 days per paid seat",
		Missing:     "no paid seats are known"},
	fUsageTrend14: {Name: "usage_trend_14_60d", Group: Usage, Window: "60d", Unit: "log ratio",
		Description: "Average daily active users in the last 14 days against the last 60, as ln((dau14+0.1)/(dau60+0.1))",
		Missing:     "the account is younger than 60 days, or has no accounts row"},
	fUsageDrop7: {Name: "usage_week_vs_month", Group: Usage, Window: "35d", Unit: "log ratio",
		Description: "Active user-days in the last 7 days against the weekly average of the 4 weeks before, as ln((last+1)/(average+1))",
		Missing:     "the account is younger than 35 days, or has no accounts row"},

	fTickets30: {Name: "tickets_30d", Group: Support, Window: "30d", Unit: "tickets",
		Description: "Support tickets opened in the last 30 days"},
	fTickets90: {Name: "tickets_90d", Group: Support, Window: "90d", Unit: "tickets",
		Description: "Support tickets opened in the last 90 days"},
	fTicketsPerSeat: {Name: "tickets_per_seat_90d", Group: Support, Window: "90d", Unit: "tickets per seat",
		Description: "Support tickets opened in the last 90 days per paid seat",
		Missing:     "no paid seats are known"},
	fOpenTickets: {Name: "open_tickets", Group: Support, Window: "at T", Unit: "tickets",
		Description: "Tickets opened and not yet resolved"},
	fFirstResponse: {Name: "first_response_hours_90d", Group: Support, Window: "90d", Unit: "hours",
		Description: "Mean time to first response of tickets answered in the last 90 days",
		Missing:     "no ticket got a first response in the last 90 days"},
	fResolution: {Name: "resolution_hours_90d", Group: Support, Window: "90d", Unit: "hours",
		Description: "Mean time to resolution of tickets resolved in the last 90 days",
		Missing:     "no ticket was resolved in the last 90 days"},
	fCSAT: {Name: "csat_90d", Group: Support, Window: "90d", Unit: "score 1-5",
		Description: "Mean satisfaction rating given in the last 90 days (ticket ratings and CSAT surveys)",
		Missing:     "no rating was given in the last 90 days"},
	fUrgentShare: {Name: "urgent_share_90d", Group: Support, Window: "90d", Unit: "ratio",
		Description: "Share of the last 90 days' tickets opened as urgent",
		Missing:     "no ticket was opened in the last 90 days"},
	fTicketSpike: {Name: "ticket_spike_30_180d", Group: Support, Window: "180d", Unit: "log ratio",
		Description: "Tickets opened in the last 30 days against the monthly average of the last 180, as ln((last+1)/(average+1))",
		Missing:     "the account is younger than 180 days, or has no accounts row"},
	fSLABreaches: {Name: "sla_breaches_90d", Group: Support, Window: "90d", Unit: "tickets",
		Description: "Tickets first answered in the last 90 days later than their priority's response target"},
	fNegEscalations: {Name: "negative_escalations_90d", Group: Support, Window: "90d", Unit: "escalations",
		Description: "Escalations flagging trouble in the last 90 days"},
	fPosEscalations: {Name: "positive_escalations_90d", Group: Support, Window: "90d", Unit: "escalations",
		Description: "Escalations flagging an opportunity in the last 90 days"},
	fDaysSinceNeg: {Name: "days_since_negative_escalation", Group: Support, Window: "all", Unit: "days",
		Description: "Days since the last escalation flagging trouble",
		Missing:     "there never was one"},

	fNPS: {Name: "nps_latest", Group: Sentiment, Window: "all", Unit: "score 0-10",
		Description: "Latest NPS answer",
		Missing:     "nobody ever answered an NPS survey"},
	fDetractor: {Name: "nps_detractor", Group: Sentiment, Window: "all", Unit: "flag",
		Description: "1 if the latest NPS answer is a detractor's (6 or less), else 0",
		Missing:     "nobody ever answered an NPS survey"},
	fNPSChange: {Name: "nps_change", Group: Sentiment, Window: "all", Unit: "points",
		Description: "Latest NPS answer minus the one before",
		Missing:     "fewer than two NPS answers"},
	fNPSMean: {Name: "nps_mean_90d", Group: Sentiment, Window: "90d", Unit: "score 0-10",
		Description: "Mean NPS answer given in the last 90 days (a quarterly survey's wave)",
		Missing:     "nobody answered an NPS survey in the last 90 days"},

	fMRR: {Name: "mrr", Group: Commercial, Window: "at T", Unit: "currency per month",
		Description: "Monthly recurring revenue after the latest billing change (0 once churned)",
		Missing:     "no billing change yet (a trial, or an account without billing data)"},
	fTenure: {Name: "tenure_days", Group: Commercial, Window: "all", Unit: "days",
		Description: "Days since the first billing change: how long the account has been a customer",
		Missing:     "no billing change yet"},
	fDaysToRenewal: {Name: "days_to_renewal", Group: Commercial, Window: "at T", Unit: "days",
		Description: "Days to the next billing date (monthly plans) or contract anniversary (annual plans)",
		Missing:     "not paying: no billing change yet, or churned"},
	fMRRChange: {Name: "mrr_change_90d", Group: Commercial, Window: "90d", Unit: "log ratio",
		Description: "Change in MRR over the last 90 days, as ln((now+1)/(then+1))",
		Missing:     "no billing change before the window: MRR 90 days ago is unknown"},
	fContractions: {Name: "contractions_180d", Group: Commercial, Window: "180d", Unit: "changes",
		Description: "Downgrades (contractions) in the last 180 days"},
	fPlan: {Name: "plan", Group: Commercial, Window: "at T", Unit: "code", Kind: models.Categorical,
		Description: "Plan after the latest billing change",
		Missing:     "no billing change yet, or a plan not in the configured dictionary"},
	fSeats: {Name: "seats", Group: Commercial, Window: "at T", Unit: "seats",
		Description: "Paid seats after the latest billing change",
		Missing:     "no billing change yet"},

	fTrialDay: {Name: "trial_day", Group: Trial, Window: "at T", Unit: "days",
		Description: "Days since the trial started",
		Missing:     "not in a trial: never trialled, trial not started yet, or converted"},
	fTrialDaysLeft: {Name: "trial_days_left", Group: Trial, Window: "at T", Unit: "days",
		Description: "Days left in the trial (0 once it has run out)",
		Missing:     "not in a trial"},
	fTrialUsers: {Name: "trial_users", Group: Trial, Window: "all", Unit: "users",
		Description: "Distinct users seen so far (invited and active)",
		Missing:     "not in a trial"},
	fTrialKeyFeatures: {Name: "trial_key_features", Group: Trial, Window: "all", Unit: "features",
		Description: "Distinct key features activated so far",
		Missing:     "not in a trial, or no key features are configured"},
	fTrialActiveDays: {Name: "trial_active_days", Group: Trial, Window: "all", Unit: "days",
		Description: "Days with any product use since the trial started",
		Missing:     "not in a trial"},

	fSegment: {Name: "segment", Group: Firmographic, Window: "at T", Unit: "code", Kind: models.Categorical,
		Description: "Customer segment from the accounts table",
		Missing:     "no accounts row, or a segment not in the configured dictionary"},
}

// DefaultSegments is the default segment dictionary.
var DefaultSegments = []string{"smb", "mid-market", "enterprise"}

// DefaultPlans is the default plan dictionary: the plans of the synthetic
// history (package training/simulate). Other businesses set their own in
// Config.Plans.
var DefaultPlans = []string{
	"trial",
	"starter-monthly", "starter-annual",
	"team-monthly", "team-annual",
	"business-monthly", "business-annual",
	"enterprise-monthly", "enterprise-annual",
}

// DefaultResponseTargets is the default first-response target of each
// ticket priority: the common tiers of B2B support agreements.
var DefaultResponseTargets = map[string]time.Duration{
	"low":    24 * time.Hour,
	"normal": 8 * time.Hour,
	"high":   4 * time.Hour,
	"urgent": time.Hour,
}

// DefaultTrialDays is the trial length used when Config.TrialDays is zero.
const DefaultTrialDays = 14

// Config sets what the catalog cannot know from the records alone. The
// zero Config is valid: feature_adoption and the key-feature counts are
// then NaN, trials last DefaultTrialDays, and the dictionaries and
// response targets are the defaults.
type Config struct {
	// CatalogueSize is the number of features the product has: the
	// denominator of feature_adoption. The records only show the features
	// used, not the ones that exist.
	CatalogueSize int `json:"catalogue_size,omitempty" yaml:"catalogue_size"`
	// KeyFeatures lists the product features whose use predicts success
	// (usage_events.feature values).
	KeyFeatures []string `json:"key_features,omitempty" yaml:"key_features"`
	// TrialDays is the planned trial length. The accounts table's
	// trial_ends_at is a snapshot as of the data's end (an extension
	// granted later would show), so point-in-time features use this.
	TrialDays int `json:"trial_days,omitempty" yaml:"trial_days"`
	// Plans and Segments are the dictionaries of the categorical features;
	// nil means DefaultPlans and DefaultSegments. A value not listed is
	// NaN. They are fixed rather than learnt from the data so that codes
	// are the same in every run, shard and model.
	Plans    []string `json:"plans,omitempty" yaml:"plans"`
	Segments []string `json:"segments,omitempty" yaml:"segments"`
	// ResponseTargets is the first-response target of each ticket
	// priority (Ticket.Priority values), against which sla_breaches_90d
	// counts late answers; nil means DefaultResponseTargets. A ticket
	// whose priority has no target never counts as a breach.
	ResponseTargets map[string]time.Duration `json:"response_targets,omitempty" yaml:"response_targets"`
	// EventFeatures is the vocabulary of the per-event features: product
	// features (usage_events.feature values) that each get a family of
	// values (events, users, share, trend, recency and rate per seat in
	// the last 30 days), in this order, after the fixed catalog; the
	// others pool into the family OtherEvents. It is fixed at training,
	// usually to the features of most volume (see training/dataset), and
	// kept with the model, so that scoring builds the same columns. Nil
	// means no per-event features.
	EventFeatures []string `json:"event_features,omitempty" yaml:"event_features"`
	// EventDuration and EventErrors add the minutes spent and the errors
	// hit to every per-event family, for data that records them.
	EventDuration bool `json:"event_duration,omitempty" yaml:"event_duration"`
	EventErrors   bool `json:"event_errors,omitempty" yaml:"event_errors"`
	// Attributes lists the account attributes (Account.Attributes keys)
	// that become categorical features named attr_NAME, in this order,
	// after the per-event features. They are context, in the firmographic
	// group, and, like the segment, a snapshot of the accounts row.
	Attributes []string `json:"attributes,omitempty" yaml:"attributes"`
	// AttributeCategories is each attribute's vocabulary, fixed at
	// training (training/dataset keeps the values common enough to
	// learn from); other values pool into OtherCategory, and a missing
	// value is NaN.
	AttributeCategories map[string][]string `json:"attribute_categories,omitempty" yaml:"attribute_categories"`
}

// withDefaults returns c with its zero fields defaulted, or an error
// naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.CatalogueSize < 0:
		return c, fmt.Errorf("features: catalogue size %d is negative", c.CatalogueSize)
	case c.TrialDays < 0:
		return c, fmt.Errorf("features: trial length %d days is negative", c.TrialDays)
	}
	if c.TrialDays == 0 {
		c.TrialDays = DefaultTrialDays
	}
	if c.Plans == nil {
		c.Plans = DefaultPlans
	}
	if c.Segments == nil {
		c.Segments = DefaultSegments
	}
	if c.ResponseTargets == nil {
		c.ResponseTargets = DefaultResponseTargets
	}
	for p, d := range c.ResponseTargets {
		if d <= 0 {
			return c, fmt.Errorf("features: response target %s of priority %q is not positive", d, p)
		}
	}
	for _, dict := range [][]string{c.Plans, c.Segments, c.KeyFeatures, c.EventFeatures} {
		if err := checkDictionary(dict); err != nil {
			return c, err
		}
	}
	if err := c.checkEvents(); err != nil {
		return c, err
	}
	return c, c.checkAttributes()
}

// checkDictionary refuses empty and repeated values, which would make
// codes ambiguous.
func checkDictionary(dict []string) error {
	for i, v := range dict {
		if v == "" || slices.Contains(dict[:i], v) {
			return fmt.Errorf("features: dictionary value %q is empty or repeated in %v", v, dict)
		}
	}
	return nil
}

// Catalog returns the features of a Vector in order, with the categories
// of the categorical ones filled in from c. It returns an error when c is
// invalid.
func (c Config) Catalog() ([]Feature, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	fs := catalog // a copy: callers may not change the package's table
	fs[fPlan].Categories = slices.Clone(c.Plans)
	fs[fSegment].Categories = slices.Clone(c.Segments)
	return slices.Concat(fs[:], c.eventCatalog(), c.attributeCatalog()), nil
}

// Schema returns the models.Schema of the vectors built under c, so that
// vectors can fill a models.Dataset column by column.
func (c Config) Schema() (models.Schema, error) {
	fs, err := c.Catalog()
	if err != nil {
		return nil, err
	}
	s := make(models.Schema, len(fs))
	for i, f := range fs {
		s[i] = models.Feature{Name: f.Name, Kind: f.Kind, Group: string(f.Group), Categories: f.Categories}
	}
	return s, nil
}

// FeatureNames returns the names of the fixed catalog's features in Vector
// order: those of every configuration. Config.Catalog lists the
// configured ones that follow.
func FeatureNames() []string {
	names := make([]string, numFeatures)
	for i, f := range catalog {
		names[i] = f.Name
	}
	return names
}

// IndexOf returns the position of the named feature in a catalog that
// Config.Catalog returned, or -1: the position in the vectors built under
// that Config, configured features included.
func IndexOf(catalog []Feature, name string) int {
	return slices.IndexFunc(catalog, func(f Feature) bool { return f.Name == name })
}

// FeatureIndex returns the position of the named feature of the fixed
// catalog in a Vector, or -1 (also for configured features: see
// Config.Catalog).
func FeatureIndex(name string) int {
	for i, f := range catalog {
		if f.Name == name {
			return i
		}
	}
	return -1
}
