package dataset

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/openchurn/churn/features"
)

// DefaultEventFeatures is the number of product features that get
// per-event features by default.
const DefaultEventFeatures = 12

// EventVocabulary reads the usage events of src before the cut (all of
// them when before is zero) and returns the configuration of the
// per-event features: the k product features of most volume (summing
// count; ties by name), and whether any event records a duration or
// errors. The vocabulary reads no label, so choosing it on the rows a
// model is tested on leaks nothing about outcomes; passing the test cut
// keeps even the product's mix of the test period out.
func EventVocabulary(ctx context.Context, src Source, k int, before time.Time) (features.Config, error) {
	var cfg features.Config
	if k <= 0 {
		return cfg, nil
	}
	volume := map[string]int64{}
	err := src.Histories(ctx, func(h *features.History) error {
		for i := range h.Usage {
			e := &h.Usage[i]
			if !before.IsZero() && !e.At.Before(before) {
				continue
			}
			volume[e.Feature] += int64(max(e.Count, 1))
			cfg.EventDuration = cfg.EventDuration || e.DurationS > 0
			cfg.EventErrors = cfg.EventErrors || e.Errors > 0
		}
		return nil
	})
	if err != nil {
		return cfg, fmt.Errorf("counting product features: %w", err)
	}
	type feat struct {
		name string
		n    int64
	}
	var fs []feat
	for name, n := range volume {
		fs = append(fs, feat{name, n})
	}
	slices.SortFunc(fs, func(a, b feat) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	for _, f := range fs[:min(k, len(fs))] {
		cfg.EventFeatures = append(cfg.EventFeatures, f.name)
	}
	return cfg, nil
}
