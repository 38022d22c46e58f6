package store

import (
	"context"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/dataset"
)

// load.Source returns the histories of shard as a dataset.Source, for the
// trainer.
func (s *Store) Source(shard Shard) dataset.Source {
	return dataset.SourceFunc(func(ctx context.Context, fn func(*features.History) error) error {
		return s.Histories(ctx, shard, fn)
	})
}
