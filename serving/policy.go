package serving

import (
	"fmt"
	"math"

	"github.com/openchurn/churn/models"
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

// DefaultBands returns green from 80 and yellow from 60: with a 30-day
// horizon, green holds churn probabilities up to 1.8% a month (at most
// 20% a year), yellow up to 4.1% (40% a year), and red the rest. In a
// typical B2B book losing 1–2% of accounts a month, red is two to three
// times the base rate or more.
func DefaultBands() Bands { return Bands{Green: 80, Yellow: 60} }

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

// Health maps a churn probability p over a horizon of horizonDays to the
// health score 100 × (1 − p)^(365/horizonDays): the chance, in percent,
// that the account is still a customer a year from now if its current risk
// held all year. It is monotone decreasing in p, 100 for no risk and 0 for
// certain churn. Annualising keeps the scale readable: monthly risks of a
// few percent, which 100 × (1 − p) would all show as 95 or more, spread
// over the whole range (1% a month is 88, 3% is 69, 8% is 36).
func Health(p, horizonDays float64) float64 {
	return 100 * math.Pow(1-p, 365/horizonDays)
}

// ComponentScore maps a group's summed contribution c (in log-odds, positive
// when it raises the predicted event) to a 0–100 component score
// 100 × σ(−c) for churn, where a high score is good, and 100 × σ(c) for
// conversion (positiveIsGood). A group that moves nothing scores 50; the
// score is monotone in the contribution.
func ComponentScore(c float64, positiveIsGood bool) float64 {
	if positiveIsGood {
		c = -c
	}
	return 100 * models.Logistic(-c)
}
