package simulate_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/simulate"
)

// Run writes the outputs it is given; here two months of 50 accounts,
// keeping only the accounts table and the churn truth in memory.
func ExampleRun() {
	var accounts, truth bytes.Buffer
	cfg := simulate.Config{Accounts: 50, Months: 2, Seed: 1}
	stats, err := simulate.Run(context.Background(), cfg, map[string]io.Writer{
		simulate.FileName(features.Accounts): &accounts,
		simulate.TruthChurnFile:              &truth,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("history up to %s\n", cfg.End().Format("2006-01-02"))
	fmt.Printf("%d accounts, %d churn truth rows\n", stats.Rows["accounts.csv"], stats.Rows[simulate.TruthChurnFile])
	for _, line := range strings.SplitN(accounts.String(), "\n", 4)[:3] {
		fmt.Println(line)
	}
	fmt.Print(strings.SplitN(truth.String(), "\n", 2)[0])
	// Output:
	// history up to 2024-03-01
	// 27 accounts, 46 churn truth rows
	// account_id,name,segment,plan,seats,owner,created_at,trial_started_at,trial_ends_at,converted_at,churned_at,renewal_at,mrr,attr_channel
	// A0000000,Northline,smb,team-monthly,2,rep-10,2019-09-16T18:52:36Z,,,,,2024-03-16T00:00:00Z,58,organic
	// A0000002,Northmark Inc,mid-market,business-annual,10,rep-12,2022-03-28T08:33:16Z,,,,,2024-03-28T00:00:00Z,416.5,organic
	// account_id,month,churn_probability
}

// Generate writes the tables into one folder, ready for churnctl ingest,
// and the ground truth into another.
func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "history")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tables, truth := filepath.Join(dir, "tables"), filepath.Join(dir, "truth")
	cfg := simulate.Config{Accounts: 20, Months: 1, Seed: 7, Start: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := simulate.Generate(context.Background(), cfg, tables, truth); err != nil {
		log.Fatal(err)
	}
	for _, d := range []string{tables, truth} {
		entries, err := os.ReadDir(d)
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range entries {
			fmt.Println(filepath.Join(filepath.Base(d), e.Name()))
		}
	}
	// Output:
	// tables/accounts.csv
	// tables/billing_changes.csv
	// tables/escalations.csv
	// tables/spend.csv
	// tables/survey_responses.csv
	// tables/tickets.csv
	// tables/usage_events.csv
	// truth/truth_churn.csv
	// truth/truth_churn_start.csv
	// truth/truth_conversion.csv
	// truth/truth_conversion_week1.csv
}
