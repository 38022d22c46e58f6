package store_test

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// accountRecords is a load.Source of accounts rows.
type accountRecords []*features.Account

func (r *accountRecords) Next() (recordio.Record, error) {
	if len(*r) == 0 {
		return nil, io.EOF
	}
	a := (*r)[0]
	*r = (*r)[1:]
	return a, nil
}

func TestDashboardQueries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		accounts := accountRecords{
			{AccountID: "a1", Name: "One", Segment: "smb", Owner: "rep-1", CreatedAt: t0, TrialEndsAt: t0.AddDate(0, 0, 14)},
			{AccountID: "a2", Name: "Two", Segment: "enterprise", Owner: "rep-2", CreatedAt: t0},
			{AccountID: "a3", Name: "Three", Segment: "smb", Owner: "rep-3", CreatedAt: t0},
		}
		if _, err := s.Load(ctx, features.Accounts, &accounts); err != nil {
			t.Fatal(err)
		}
		for week, ps := range [][3]float64{{0.1, 0.2, 0.3}, {0.2, 0.1, 0.4}, {0.3, 0.05, 0.25}} { // a3 has the most ARR
			var scores []score.Score // one as-of per call, as a batch writes them
			for i, p := range ps {
				sc := scoreOf([]string{"a1", "a2", "a3"}[i], t0.AddDate(0, 0, 7*week), 1, p)
				sc.Band = []string{"green", "yellow", "red"}[i]
				if i == 2 {
					sc.ARR, sc.RevenueAtRisk = 12000, p*12000
				}
				scores = append(scores, sc)
			}
			if err := s.PutScores(ctx, scores); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(rows []score.Row) (out []string) {
			for _, r := range rows {
				out = append(out, r.AccountID)
			}
			return out
		}
		tests := []struct {
			name string
			q    score.ListQuery
			want []string
		}{
			{"by probability", score.ListQuery{}, []string{"a1", "a3", "a2"}},
			{"by revenue at risk", score.ListQuery{ByRevenueAtRisk: true}, []string{"a3", "a1", "a2"}},
			{"segment", score.ListQuery{Segment: "smb"}, []string{"a1", "a3"}},
			{"owner and band", score.ListQuery{Owner: "rep-2", Band: "yellow"}, []string{"a2"}},
			{"after a cursor", score.ListQuery{After: &score.ListCursor{Value: 0.3, AccountID: "a1"}}, []string{"a3", "a2"}},
			{"after a revenue cursor", score.ListQuery{ByRevenueAtRisk: true, After: &score.ListCursor{Value: 3000, AccountID: "a3"}}, []string{"a1", "a2"}},
		}
		for _, tc := range tests {
			tc.q.Task, tc.q.Limit = "churn", 10
			rows, err := s.ScoreRows(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := ids(rows); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
		rows, err := s.ScoreRows(ctx, score.ListQuery{Task: "churn", Segment: "smb", Limit: 1})
		if err != nil || len(rows) != 1 || rows[0].Name != "One" || !rows[0].TrialEndsAt.Equal(t0.AddDate(0, 0, 14)) || rows[0].OpenAlerts != 0 {
			t.Errorf("first smb row %+v, %v", rows, err)
		}

		trends, err := s.HealthTrends(ctx, "churn", []string{"a1", "a2", "nope"}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if a1 := trends["a1"]; len(trends) != 2 || len(a1) != 2 || !a1[0].AsOf.Equal(t0.AddDate(0, 0, 7)) || a1[1].Health != 70 {
			t.Errorf("trends %+v, want the last 2 of a1 and a2, oldest first", trends)
		}

		bands, err := s.RiskByBand(ctx, "churn")
		if err != nil || len(bands) != 3 || bands[1].Band != "red" || bands[1].Accounts != 1 || bands[1].RevenueAtRisk != 3000 {
			t.Errorf("bands %+v, %v", bands, err)
		}
		owners, segments, err := s.Facets(ctx, "churn")
		if err != nil || len(owners) != 3 || len(segments) != 2 || segments[0] != "enterprise" {
			t.Errorf("facets %v %v, %v", owners, segments, err)
		}
	})
}
