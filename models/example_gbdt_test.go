package models_test

import (
	"fmt"
	"math"

	"github.com/openchurn/churn/models"
)

// Trial accounts that log in on more than three days of their first week
// convert; those that never logged in (missing) convert too, having been
// onboarded by sales.
func ExampleFitGBDT() {
	d := &models.Dataset{
		Schema:  models.Schema{{Name: "active_days", Kind: models.Numeric}},
		Columns: [][]float64{nil},
	}
	for i := range 400 {
		days := float64(i % 8)
		converted := days > 3
		if i%10 == 0 {
			days, converted = math.NaN(), true
		}
		d.Columns[0] = append(d.Columns[0], days)
		d.Labels = append(d.Labels, map[bool]float64{false: 0, true: 1}[converted])
	}
	p := models.DefaultGBDTParams()
	p.Rounds, p.LearningRate = 10, 0.3
	m, err := models.FitGBDT(d, nil, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, days := range []float64{1, 5, math.NaN()} {
		row := []float64{days}
		p := 1 / (1 + math.Exp(-m.Raw(row)))
		phi := m.Contributions(row, nil)
		fmt.Printf("active_days=%v: P(convert)=%.2f, contribution %+.1f\n", days, p, phi[0])
	}
	// Output:
	// active_days=1: P(convert)=0.03, contribution -3.8
	// active_days=5: P(convert)=0.98, contribution +3.5
	// active_days=NaN: P(convert)=0.98, contribution +3.5
}
