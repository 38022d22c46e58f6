package saas_test

import (
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/saas"
)

// A book of two customers: one upgrades, one churns. The reports are
// computed from the book for any range of months.
func Example() {
	b, _ := saas.NewBook(saas.Options{})
	day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []features.BillingChange{
		{AccountID: "acme", At: day(1, 10), MRR: 100, Kind: features.BillingNew},
		{AccountID: "acme", At: day(2, 15), MRR: 150, Kind: features.BillingExpansion},
		{AccountID: "globex", At: day(1, 20), MRR: 50, Kind: features.BillingNew},
		{AccountID: "globex", At: day(2, 5), Kind: features.BillingChurn},
	} {
		if err := b.AddBillingChange(&c); err != nil {
			fmt.Println(err)
		}
	}
	b.Finish()
	months, _ := b.MRR(saas.Range{From: saas.MonthOf(day(1, 1)), To: saas.MonthOf(day(2, 1))})
	for _, m := range months {
		qr := m.QuickRatio.String()
		if qr == "" {
			qr = "absent (" + m.QuickRatio.Reason() + ")"
		}
		fmt.Printf("%s new %v expansion %v churned %v end %v quick ratio %s\n", m.Month, m.New, m.Expansion, m.Churned, m.EndMRR, qr)
	}
	// Output:
	// 2025-01 new 150 expansion 0 churned 0 end 150 quick ratio absent (no MRR was churned or contracted in the month)
	// 2025-02 new 0 expansion 50 churned 50 end 150 quick ratio 1
}
