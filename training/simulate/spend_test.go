package simulate

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// TestSpend checks that the spend file covers every month and channel of
// the history and gives each channel about its CAC, and that every
// account names its channel.
func TestSpend(t *testing.T) {
	cfg := Config{Accounts: 3000, Months: 12, Seed: 5}
	var spend, accounts, billing bytes.Buffer
	_, err := Run(context.Background(), cfg, map[string]io.Writer{
		FileName(features.Spends): &spend, FileName(features.Accounts): &accounts, FileName(features.BillingChanges): &billing})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&accounts).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][len(rows[0])-1] != "attr_channel" {
		t.Fatalf("accounts header %v does not end with attr_channel", rows[0])
	}
	channelOf := map[string]string{}
	known := map[string]bool{}
	for _, c := range channels {
		known[c.name] = true
	}
	for _, r := range rows[1:] {
		if ch := r[len(r)-1]; !known[ch] {
			t.Fatalf("account %s has channel %q", r[0], ch)
		}
		channelOf[r[0]] = r[len(r)-1]
	}
	// New customers per channel, from the billing file.
	d, err := recordio.NewDecoder(&billing, "billing.csv", features.BillingChanges, recordio.CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, end := cfg.withDefaultsMust(t)
	acquired := map[string]float64{}
	for {
		rec, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if c := rec.(*features.BillingChange); c.Kind == features.BillingNew && !c.At.Before(start) && c.At.Before(end) {
			acquired[channelOf[c.AccountID]]++
		}
	}
	d, err = recordio.NewDecoder(&spend, "spend.csv", features.Spends, recordio.CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	spent := map[string]float64{}
	months := map[string]bool{}
	n := 0
	for {
		rec, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s := rec.(*features.Spend)
		spent[s.Channel] += s.Amount
		months[s.Month.Format("2006-01")] = true
		n++
	}
	// Every month of 2024 and channel: one row per kind with a share.
	perMonth := 0
	for _, c := range channels {
		perMonth++
		if c.sales > 0 && c.sales < 1 {
			perMonth++
		}
	}
	if len(months) != 12 || n != 12*perMonth {
		t.Errorf("%d spend rows over %d months, want %d over 12", n, len(months), 12*perMonth)
	}
	for _, c := range channels {
		if acquired[c.name] < 10 {
			t.Errorf("channel %s acquired %v customers in a year of 3,000 accounts", c.name, acquired[c.name])
			continue
		}
		// Spend is base × 12 + cac × customers, with noise of mean 1.
		cac := spent[c.name] / acquired[c.name]
		lo, hi := 0.8*c.cac, 1.2*(c.cac+12*c.base/acquired[c.name])
		if cac < lo || cac > hi {
			t.Errorf("channel %s: CAC %s, want between %.0f and %.0f", c.name, strconv.FormatFloat(cac, 'f', 0, 64), lo, hi)
		}
	}
}

func (c Config) withDefaultsMust(t *testing.T) (start, end time.Time) {
	t.Helper()
	d, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return d.Start, d.End()
}
