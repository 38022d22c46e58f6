package dataset

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/openchurn/churn/features"
)

// DefaultEventFeatures is the number of product features that get
// per-event features by default.
const DefaultEventFeatures = 12

// Attribute values common enough to be categories of their own: held by
// at least MinAttributeAccounts accounts, at most MaxAttributeCategories
// of them per attribute (the most common); the others pool into
// features.OtherCategory, since a tree cannot learn from a handful of
// accounts per value and wide categorical features overfit.
const (
	MinAttributeAccounts   = 10
	MaxAttributeCategories = 30
)

// VocabularyOptions says which vocabularies Vocabulary learns.
type VocabularyOptions struct {
	// EventFeatures is the number of product features that get per-event
	// features: those of most volume (summing count; ties by name).
	EventFeatures int
	// Before, when set, reads only the usage events before it: the test
	// cut, so that not even the product's mix of the test period is used.
	Before time.Time
}

// Vocabulary reads src once and returns cfg with the vocabularies fixed
// at training filled in where cfg does not set them: the per-event
// features (EventFeatures, and EventDuration and EventErrors when any
// event records them) and the categories of each of cfg.Attributes. It
// reads no label, so learning them from rows a model is tested on leaks
// nothing about outcomes.
func Vocabulary(ctx context.Context, src Source, cfg features.Config, opt VocabularyOptions) (features.Config, error) {
	events := opt.EventFeatures > 0 && len(cfg.EventFeatures) == 0
	var attrs []string
	for _, a := range cfg.Attributes {
		if _, ok := cfg.AttributeCategories[a]; !ok {
			attrs = append(attrs, a)
		}
	}
	if !events && len(attrs) == 0 {
		return cfg, nil
	}
	volume := map[string]int{}
	values := make([]map[string]int, len(attrs))
	for i := range values {
		values[i] = map[string]int{}
	}
	var duration, errs bool
	err := src.Histories(ctx, func(h *features.History) error {
		if h.Account != nil {
			for i, a := range attrs {
				if v := h.Account.Attributes[a]; v != "" {
					values[i][v]++
				}
			}
		}
		if !events {
			return nil
		}
		for i := range h.Usage {
			e := &h.Usage[i]
			if !opt.Before.IsZero() && !e.At.Before(opt.Before) {
				continue
			}
			volume[e.Feature] += max(e.Count, 1)
			duration = duration || e.DurationS > 0
			errs = errs || e.Errors > 0
		}
		return nil
	})
	if err != nil {
		return cfg, fmt.Errorf("learning vocabularies: %w", err)
	}
	if events {
		cfg.EventFeatures = top(volume, opt.EventFeatures, 1)
		cfg.EventDuration, cfg.EventErrors = duration, errs
	}
	if len(attrs) > 0 {
		cats := maps.Clone(cfg.AttributeCategories)
		if cats == nil {
			cats = map[string][]string{}
		}
		for i, a := range attrs {
			delete(values[i], features.OtherCategory)
			cats[a] = top(values[i], MaxAttributeCategories, MinAttributeAccounts)
			slices.Sort(cats[a])
		}
		cfg.AttributeCategories = cats
	}
	return cfg, nil
}

// top returns the k keys of counts of the highest counts, at least least
// each, highest first, ties by key.
func top(counts map[string]int, k, least int) []string {
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var out []string
	for _, key := range keys[:min(k, len(keys))] {
		if counts[key] >= least {
			out = append(out, key)
		}
	}
	return out
}
