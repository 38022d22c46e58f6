package features_test

import (
	"fmt"
	"log"
	"time"

	"github.com/openchurn/churn/features"
)

// A Builder sweeps one account's history once and returns its vectors as
// of every requested time. Nothing at or after an as-of time is read: the
// ticket resolved on 10 March is still open as of 1 March.
func ExampleBuilder() {
	day := func(d int) time.Time { return time.Date(2024, 2, d, 9, 0, 0, 0, time.UTC) }
	h := &features.History{
		AccountID: "acme",
		Account:   &features.Account{AccountID: "acme", Segment: "mid-market", CreatedAt: day(1).AddDate(-1, 0, 0)},
		Usage: []features.UsageEvent{
			{AccountID: "acme", UserID: "ann", Feature: "reports", At: day(5), Count: 1},
			{AccountID: "acme", UserID: "bob", Feature: "search", At: day(20), Count: 1},
		},
		Tickets: []features.Ticket{
			{AccountID: "acme", TicketID: "t1", OpenedAt: day(25), ResolvedAt: time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), Priority: "high"},
		},
		Billing: []features.BillingChange{
			{AccountID: "acme", At: day(1).AddDate(-1, 0, 0), MRR: 490, Seats: 10, Plan: "business-monthly", Kind: features.BillingNew},
		},
	}
	b, err := features.NewBuilder(features.Config{KeyFeatures: []string{"reports"}})
	if err != nil {
		log.Fatal(err)
	}
	asOf := []time.Time{
		time.Date(2024, 2, 15, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	vectors, err := b.Build(h, asOf, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range vectors {
		fmt.Printf("%s: active users %v, seat utilisation %v, key features %v, open tickets %v, mrr %v\n",
			v.AsOf.Format("2006-01-02"), v.Value("active_users_30d"), v.Value("seat_utilisation_30d"),
			v.Value("key_features_used_30d"), v.Value("open_tickets"), v.Value("mrr"))
	}
	// Output:
	// 2024-02-15: active users 1, seat utilisation 0.1, key features 1, open tickets 0, mrr 490
	// 2024-03-01: active users 2, seat utilisation 0.2, key features 1, open tickets 1, mrr 490
}
