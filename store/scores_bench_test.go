package store_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store/storetest"
)

// benchDetail is a churn score's detail as the scorer writes it: six
// components and five reasons.
//
//go:embed testdata/bench-detail.json
var benchDetail []byte

// BenchmarkCurrentScores reads a 500-row page of current scores, the
// API's largest listing page.
func BenchmarkCurrentScores(b *testing.B) {
	s := storetest.Open(b, "sqlite")
	var d score.Detail
	if err := json.Unmarshal(benchDetail, &d); err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	scores := make([]score.Score, 500)
	for i := range scores {
		scores[i] = score.Score{AccountID: fmt.Sprintf("a%04d", i), Task: "churn", AsOf: t0, ModelVersion: 3, Owner: "rep-1",
			Probability: float64(i) / 1000, Health: 90, Band: "green", Previous: 0.1, Detail: d, Fingerprint: "f", ScoredAt: t0}
	}
	ctx := context.Background()
	if err := s.PutScores(ctx, scores); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := s.CurrentScores(ctx, score.Query{Task: "churn", Limit: 500})
		if err != nil || len(got) != 500 {
			b.Fatal(len(got), err)
		}
	}
}
