package serving

import (
	"fmt"
	"math"
)

// Band names.
const (
	Green  = "green"
	Yellow = "yellow"
	Red    = "red"
)

// Bands are the health thresholds of the green and yellow bands: a health
// score at or above Green is green, at or above Yellow is yellow, and red
// below.
type Bands struct {
	Green  float64 `yaml:"green" json:"green"`
	Yellow float64 `yaml:"yellow" json:"yellow"`
}

// DefaultBands returns green from 90 and yellow from 75, that is churn
// probabilities up to 10% and up to 25% over the horizon. With monthly
// churn of about 2% in a typical B2B book, 10% is five times the base rate.
func DefaultBands() Bands { return Bands{Green: 90, Yellow: 75} }

func (b Bands) validate() error {
	if !(0 <= b.Yellow && b.Yellow <= b.Green && b.Green <= 100) {
		return fmt.Errorf("bands: want 0 <= yellow (%v) <= green (%v) <= 100", b.Yellow, b.Green)
	}
	return nil
}

// Band returns the band of a health score.
func (b Bands) Band(health float64) string {
	switch {
	case health >= b.Green:
		return Green
	case health >= b.Yellow:
		return Yellow
	}
	return Red
}

// Health maps a churn probability p to the health score 100 × (1 − p):
// monotone decreasing, 100 for no risk and 0 for certain churn, so a
// health of 85 reads as "15% likely to churn within the horizon".
func Health(p float64) float64 { return 100 * (1 - p) }

// ComponentScore maps a group's summed contribution c (in log-odds, positive
// when it raises the predicted event) to a 0–100 component score
// 100 × σ(−c) for churn, where a high score is good, and 100 × σ(c) for
// conversion (positiveIsGood). A group that moves nothing scores 50; the
// score is monotone in the contribution.
func ComponentScore(c float64, positiveIsGood bool) float64 {
	if positiveIsGood {
		c = -c
	}
	return 100 / (1 + math.Exp(c))
}
