package transform

import (
	"context"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
)

// Result is what loading one canonical view did; Err is its refusal, after
// which nothing of the view is kept.
type Result struct {
	load.Result
	Err error `json:"-"`
}

// Load loads every canonical view that the transform defined with s (a
// *store.Store, or a dry run's loader), in
// load order (accounts first), each in a transaction of its own as a file
// of that table would be: a view with a bad row loads nothing and the
// others still load. The error is the workspace's, not a view's.
func (w *Workspace) Load(ctx context.Context, s store.Loader, m *recordio.Mapping, opts load.Options) ([]Result, error) {
	tables, err := w.Canonical(ctx)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(tables))
	for _, t := range tables {
		res, err := w.loadView(ctx, s, t, m, opts)
		res.Table = t
		results = append(results, Result{Result: res, Err: err})
	}
	return results, nil
}

func (w *Workspace) loadView(ctx context.Context, s store.Loader, t features.Table, m *recordio.Mapping, opts load.Options) (load.Result, error) {
	src, err := w.Source(ctx, t, m)
	if err != nil {
		return load.Result{}, err
	}
	defer src.Close()
	if opts.CollectInvalid {
		src.SkipInvalid()
	}
	return s.LoadWith(ctx, t, src, opts)
}
