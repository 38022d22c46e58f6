package score

import (
	"math"
	"time"

	"github.com/openchurn/churn/training/trainer"
)

// The tasks a score is for: the trainer's.
const (
	TaskChurn      = trainer.TaskChurn
	TaskConversion = trainer.TaskConversion
)

// Score is one score of an account for a task, as of a time.
type Score struct {
	AccountID string
	Task      string
	// AsOf is the time the features were taken as of.
	AsOf time.Time
	// ModelVersion is the registry version of the model that scored it.
	ModelVersion int64
	// Owner is the account's owner when scored, for routing and filtering.
	Owner       string
	Probability float64
	// Health is 0–100, the serving policy's transform of Probability, for
	// churn scores; zero for conversion scores.
	Health float64
	Band   string // green, yellow or red for churn scores; empty otherwise
	PQL    bool   // for conversion scores: whether the trial is a product-qualified lead
	// ARR is the account's ARR for churn scores, and the ARR a trial
	// brings if it converts (12 × Detail.Trial.ExpectedMRR) for conversion
	// scores.
	ARR float64
	// RevenueAtRisk is Probability × ARR: the expected ARR lost for churn
	// scores, the expected ARR won for conversion scores, by which the
	// trials worklist is ordered.
	RevenueAtRisk float64
	// Previous is the probability of the latest earlier score (by AsOf)
	// of the same account and task, NaN when there is none.
	Previous float64
	Detail   Detail
	// Fingerprint identifies the inputs the score was computed from.
	Fingerprint string
	ScoredAt    time.Time
}

// ConversionScore is a conversion score's 0–100 figure, 100 × Probability:
// the chance to convert, in percent.
func (s *Score) ConversionScore() float64 { return 100 * s.Probability }

// Delta returns the change of probability since the previous score, and
// false for a first score.
func (s *Score) Delta() (float64, bool) {
	if math.IsNaN(s.Previous) {
		return 0, false
	}
	return s.Probability - s.Previous, true
}

// RiseARR is the expected ARR lost that the rise of the score's
// probability since its previous score added, (Probability − Previous) ×
// ARR: negative for a fall, and 0 for a first score.
func (s *Score) RiseARR() float64 {
	d, ok := s.Delta()
	if !ok {
		return 0
	}
	return d * s.ARR
}

// Detail is a score's explanation.
type Detail struct {
	// Horizon states the event the probability is about.
	Horizon string `json:"horizon"`
	// Components maps each feature group to its part in the score.
	Components map[string]Component `json:"components"`
	// Reasons are the actionable features that moved the score most,
	// strongest first, one feature per signal (features.Feature.Signal).
	Reasons []Reason `json:"reasons"`
	// Context are the facts no one can change (days to renewal, tenure,
	// plan, seats, trial day, segment, attributes) that moved the score
	// most, strongest first; a score stored before the split has none, and
	// its Reasons may hold such facts.
	Context []Reason `json:"context,omitempty"`
	// RiskWindowDays is how many days after the as-of date a churn score's
	// event may fall in (lead plus horizon), which context sentences
	// compare the days to renewal with; 0 for conversion scores.
	RiskWindowDays int `json:"risk_window_days,omitempty"`
	// PQLThreshold is the threshold a conversion score's PQL flag was set
	// with.
	PQLThreshold float64 `json:"pql_threshold,omitempty"`
	// Trial is what a sales rep ranks a trial by, for conversion scores;
	// nil for churn scores and conversion scores stored before it was kept.
	Trial *TrialFacts `json:"trial,omitempty"`
}

// TrialFacts are a trial's facts as of its score, for the trials worklist.
type TrialFacts struct {
	EndsAt   time.Time `json:"ends_at,omitzero"`
	DaysLeft int       `json:"days_left"`
	// LastActiveAt is the day of the latest product use, zero for none.
	LastActiveAt time.Time `json:"last_active_at,omitzero"`
	// ActiveUsers are the users seen in the trial so far, against Seats
	// (0 when the account has none).
	ActiveUsers int `json:"active_users"`
	Seats       int `json:"seats"`
	// KeyFeatures counts the key features adopted of KeyFeaturesTotal.
	KeyFeatures      int `json:"key_features"`
	KeyFeaturesTotal int `json:"key_features_total"`
	// ExpectedMRR is the MRR the trial brings if it converts: its account's
	// MRR when known ("account"), else the median first MRR of converted
	// accounts of its segment ("segment median") or of all of them
	// ("median"); ExpectedMRRFrom says which.
	ExpectedMRR     float64 `json:"expected_mrr"`
	ExpectedMRRFrom string  `json:"expected_mrr_from"`
}

// Component is one feature group's part in a score.
type Component struct {
	// Score is 0–100, 50 when the group moves nothing; higher is always
	// better (healthier, or likelier to convert).
	Score float64 `json:"score"`
	// Contribution is the group's summed contribution, in log-odds.
	Contribution float64 `json:"contribution"`
}
