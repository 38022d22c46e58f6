package models_test

import (
	"bytes"
	"fmt"

	"github.com/openchurn/churn/models"
)

// A logistic regression fitted on a tiny table, calibrated, stored as an
// artifact and read back; the prediction is explained by feature group.
func ExampleFitLogReg() {
	// Accounts with more active days churn less; support tickets push the
	// other way.
	data := &models.Dataset{
		Schema: models.Schema{
			{Name: "active_days", Kind: models.Numeric, Group: "usage"},
			{Name: "tickets", Kind: models.Numeric, Group: "support"},
		},
		Columns: [][]float64{
			{20, 18, 25, 3, 2, 22, 5, 1, 15, 4, 19, 6},
			{0, 1, 0, 3, 4, 2, 1, 5, 0, 2, 1, 4},
		},
		Labels: []float64{0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1},
	}
	m, err := models.FitLogReg(data, models.DefaultLogRegParams())
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	err = models.EncodeArtifact(&buf, &models.Artifact{Algorithm: models.AlgorithmLogReg, Model: m})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := models.DecodeArtifact(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	account := []float64{4, 3}
	p, err := a.Predict(account)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _, contrib, _ := a.Explain(account)
	fmt.Printf("churn probability %.2f\n", p)
	for _, g := range models.SumByGroup(a.Schema(), contrib) {
		fmt.Printf("%s %+.2f\n", g.Group, g.Value)
	}
	_, err = a.Predict([]float64{4})
	fmt.Println(err)
	// Output:
	// churn probability 0.86
	// usage +0.85
	// support +0.85
	// models: vector has 1 values, schema has 2 features
}
