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

// BenchmarkPutScores stores one batch run's churn scores of 10,000
// accounts, in chunks of 1,000 as a batch writes them, each run a week
// after the last, so that every current score is replaced: the write
// path that each index of current_scores adds to. Per store:
//
//	CHURN_TEST_POSTGRES=… go test ./store -run '^$' -bench PutScores -benchtime 5x
func BenchmarkPutScores(b *testing.B) {
	var d score.Detail
	if err := json.Unmarshal(benchDetail, &d); err != nil {
		b.Fatal(err)
	}
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			s := storetest.Open(b, dialect)
			ctx := context.Background()
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			scores := make([]score.Score, 10_000)
			run := 0
			for b.Loop() {
				asOf := t0.AddDate(0, 0, 7*run)
				for i := range scores {
					p := float64((i*7919+run*104729)%1000) / 1000
					scores[i] = score.Score{AccountID: fmt.Sprintf("a%05d", i), Task: "churn", AsOf: asOf, ModelVersion: 3,
						Owner: fmt.Sprintf("rep-%02d", i%20), Probability: p, Health: 100 * (1 - p), Band: "green", ARR: float64(1000 + i),
						RevenueAtRisk: p * float64(1000+i), Previous: 0.1, Detail: d, Fingerprint: "f", ScoredAt: asOf}
				}
				for start := 0; start < len(scores); start += 1000 {
					if err := s.PutScores(ctx, scores[start:start+1000]); err != nil {
						b.Fatal(err)
					}
				}
				run++
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/run")
		})
	}
}
