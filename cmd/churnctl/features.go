package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/dataset"
)

// runFeatures writes the current feature vectors of the accounts paying
// or in a running trial as of a time, for scoring.
func runFeatures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("features", stderr)
	db := dbFlag(fs)
	asOf := fs.String("as-of", "", "the time to look from, YYYY-MM-DD (midnight UTC) or RFC 3339 (required)")
	keyFeatures := fs.String("key-features", "", "comma-separated product features whose adoption predicts success")
	catalogueSize := fs.Int("catalogue-size", 0, "number of product features, the denominator of adoption")
	trialDays := fs.Int("trial-days", 0, fmt.Sprintf("planned trial length in days (default %d)", features.DefaultTrialDays))
	rf := addRowFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl features --as-of DATE --out FILE.csv [flags]\n\n"+
			"Writes account_id, as_of and every feature of the catalog for each account paying or in a trial.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	at, err := parseAsOf(*asOf)
	if err != nil {
		return err
	}
	shard, err := rf.check()
	if err != nil {
		return err
	}
	cfg := features.Config{CatalogueSize: *catalogueSize, TrialDays: *trialDays}
	for _, k := range strings.Split(*keyFeatures, ",") {
		if k = strings.TrimSpace(k); k != "" {
			cfg.KeyFeatures = append(cfg.KeyFeatures, k)
		}
	}
	if _, err := cfg.Catalog(); err != nil {
		return usageError{err}
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	return rf.write(ctx, s, shard, &dataset.Current{At: at}, cfg, stdout)
}

// parseAsOf parses --as-of: a date is its midnight UTC.
func parseAsOf(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, usagef("--as-of is required")
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usagef("--as-of %q: want YYYY-MM-DD or an RFC 3339 time", v)
}
