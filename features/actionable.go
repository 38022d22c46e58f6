package features

// contextFeatures are the features that move risk but that no one can
// change in the weeks a score looks ahead: where the account stands in its
// contract and trial, and what it bought. Every other feature of the
// commercial and trial groups (MRR changes, contractions, trial adoption)
// is a signal someone can act on.
var contextFeatures = map[string]bool{
	"days_to_renewal": true,
	"tenure_days":     true,
	"mrr":             true,
	"plan":            true,
	"seats":           true,
	"trial_day":       true,
	"trial_days_left": true,
	"segment":         true,
}

// Actionable reports whether f is a driver a rep can act on (usage,
// support, sentiment, adoption, per-event metrics) rather than context:
// days to renewal, tenure, MRR, plan, seats, trial day and days left, and
// every firmographic feature (segment and account attributes). Both feed
// the models; only actionable features are offered as reasons to act.
func (f Feature) Actionable() bool {
	return f.Group != Firmographic && !contextFeatures[f.Name]
}

// signals groups the features that measure one signal in several ways:
// per seat and in total, or over two windows. An explanation shows one
// feature of a signal, its strongest.
var signals = map[string]string{
	"tickets_30d":          "tickets",
	"tickets_90d":          "tickets",
	"tickets_per_seat_90d": "tickets",

	"active_users_30d":     "active users",
	"seat_utilisation_30d": "active users",
	"dau_per_seat_14d":     "daily users per seat",
	"dau_per_seat_60d":     "daily users per seat",

	"features_used_30d": "features used",
	"feature_adoption":  "features used",

	"usage_trend_30d":     "usage trend",
	"usage_trend_14_60d":  "usage trend",
	"usage_week_vs_month": "usage trend",

	"negative_escalations_90d":       "negative escalations",
	"days_since_negative_escalation": "negative escalations",

	"nps_latest":    "nps",
	"nps_detractor": "nps",
	"nps_mean_90d":  "nps",
}

// Signal names the signal f measures: the same for features that are the
// same signal per seat and in total, or over another window, and f's own
// name for every other feature.
func (f Feature) Signal() string {
	if s, ok := signals[f.Name]; ok {
		return s
	}
	return f.Name
}
