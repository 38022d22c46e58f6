package trainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/metrics"
)

// Extent is the time span of a store's records.
type Extent struct {
	// FirstUsage is the time of the first usage event, and Last the
	// latest time of any record; both are zero for an empty store.
	FirstUsage, Last time.Time
}

// Registry keeps trained models. RegisterModel stores m as a new version
// of its task, fills in its Version, State, CreatedAt, StateAt and
// Checksum, activates it as act says, and returns the model that was
// active for the task before, or nil.
type Registry interface {
	RegisterModel(ctx context.Context, m *RegisteredModel, act Activation) (prev *RegisteredModel, err error)
}

// Store is what TrainAndRegister needs of a store besides the histories:
// the span of its records, and its registry.
type Store interface {
	Registry
	Extent(ctx context.Context) (Extent, error)
}

// Spec says which model to train. Zero times take defaults from the data
// (see TrainAndRegister); every other field is used as given, so start
// from DefaultSpec.
type Spec struct {
	Task string
	// From and To bound the observation dates; DataEnd is when the data
	// stops (nothing after it is known).
	From, To, DataEnd time.Time
	// Every is the step of churn observations; Renewals observes each
	// paying account Lead before each of its renewals instead.
	Every    dataset.Span
	Renewals bool
	// Lead, Horizon and Grace define churn labels (see dataset.Churn); a
	// zero Horizon with Renewals means up to the next renewal. Grace also
	// extends a trial for conversion labels.
	Lead, Horizon, Grace time.Duration
	// TrialDay is the trial day conversion observes each trial on.
	TrialDay int
	// Features configures the feature builder. Its vocabularies left
	// unset (per-event features, attribute categories) are fixed from the
	// training data before the test period: EventFeatures product features
	// of most volume get per-event features.
	Features      features.Config
	EventFeatures int
	// Truth, when set, adds the simulator's oracle to the evaluation.
	Truth *Truth
	// Options configures the learners and the evaluation.
	Options Options
	// Activation says whether the new model becomes active. With
	// ActivateAuto it does only if its test set passes Guard.
	Activation Activation
	Guard      Guard
}

// Guard is what a model's out-of-time test set must show before
// ActivateAuto lets it replace the active model: enough positives and
// negatives to measure it, and an AUC whose lower bootstrap bound is above
// chance. The registry then activates it only if its test AUC is not below
// the active model's.
type Guard struct {
	MinPositives, MinNegatives int
}

// DefaultGuard asks for 50 positives and 50 negatives.
func DefaultGuard() Guard { return Guard{MinPositives: 50, MinNegatives: 50} }

// Enough reports whether a test set of pos positives and neg negatives
// holds as many as g asks.
func (g Guard) Enough(pos, neg float64) bool {
	return pos >= float64(g.MinPositives) && neg >= float64(g.MinNegatives)
}

// Check returns why test does not pass g, in one line, or "" if it does.
func (g Guard) Check(test metrics.Estimate) string {
	pos, neg := test.Positives, float64(test.Rows)-test.Positives
	switch {
	case !g.Enough(pos, neg):
		return fmt.Sprintf("its test set holds %.0f positives and %.0f negatives, fewer than the %d and %d needed to trust it",
			pos, neg, g.MinPositives, g.MinNegatives)
	case !(test.Lo.AUC > 0.5):
		return fmt.Sprintf("its test AUC %.3f has a lower bound of %.3f, not above chance (0.5)", test.AUC, test.Lo.AUC)
	}
	return ""
}

// DefaultSpec returns the defaults for task: monthly churn observations
// with a lead of 7 days, a horizon of 30 days and a grace of 14 days;
// conversion observed on trial day 7 with the same grace;
// dataset.DefaultEventFeatures per-event features; DefaultOptions;
// ActivateAuto with DefaultGuard.
func DefaultSpec(task string) Spec {
	const day = 24 * time.Hour
	return Spec{Task: task, Every: dataset.Span{Months: 1}, Lead: 7 * day, Horizon: 30 * day, Grace: 14 * day,
		TrialDay: 7, EventFeatures: dataset.DefaultEventFeatures, Options: DefaultOptions(), Activation: ActivateAuto, Guard: DefaultGuard()}
}

// Trained is the outcome of TrainAndRegister.
type Trained struct {
	// Model is the registered model, with its artifact; Previous the
	// model that was active for the task before, or nil.
	Model, Previous *RegisteredModel
	Result          *Result
	// Dataset describes the sweep that built the examples.
	Dataset dataset.Stats
	// Guarded says, in one line, why the guard kept the model a
	// candidate (with ActivateAuto) or why it would have (with
	// ActivateAlways, which activates it anyway); empty when it passed.
	Guarded string
}

// Plan is a Spec resolved against the data: the dataset task to sweep,
// its labels, the record a model trained on it will carry, and the step
// of a backtest window.
type Plan struct {
	Task   dataset.Task
	Labels Labels
	Record Record
	// Back steps a time back by one backtest window: the observation step
	// for churn, a month for conversion.
	Back func(time.Time) time.Time

	eventFeatures int
	testFrom      time.Time
}

// Plan resolves spec against the data's extent. Zero dates default from
// it: DataEnd is the day after the latest record; churn observations
// start on the first of the month after the first usage event and end at
// DataEnd; conversion observes trials from TrialDay+1 days after the
// first usage event. Observations start once usage is recorded because
// billing history often reaches further back, and rows from before usage
// data exists have empty vectors and labels that teach the model that
// inactivity retains.
func (spec Spec) Plan(ext Extent) (*Plan, error) {
	task, err := taskOf(spec.Task)
	if err != nil {
		return nil, err
	}
	if ext.Last.IsZero() {
		return nil, errors.New("the store holds no records: ingest some first")
	}
	if ext.FirstUsage.IsZero() {
		ext.FirstUsage = ext.Last
	}
	if spec.DataEnd.IsZero() {
		spec.DataEnd = ext.Last.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	}
	p := &Plan{Record: Record{Task: task, Grace: dataset.Duration(spec.Grace), DataEnd: spec.DataEnd, Features: spec.Features}}
	switch task {
	case TaskChurn:
		if spec.From.IsZero() {
			first := ext.FirstUsage.UTC()
			spec.From = time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
		}
		if spec.To.IsZero() {
			spec.To = spec.DataEnd
		}
		c := &dataset.Churn{Renewals: spec.Renewals, From: spec.From, To: spec.To, Lead: spec.Lead, Horizon: spec.Horizon,
			Grace: spec.Grace, DataEnd: spec.DataEnd}
		every := spec.Every
		if spec.Renewals {
			every = dataset.Span{Months: 1} // the backtest step of renewal observations
		} else if c.Schedule, err = dataset.Schedule(spec.From, spec.To, spec.Every); err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		p.Task, p.Labels = c, ChurnLabels(c, spec.Truth)
		p.Back = func(t time.Time) time.Time { return dataset.Span{Months: -every.Months, Days: -every.Days}.After(t) }
		p.Record.Renewals, p.Record.Lead, p.Record.Horizon = spec.Renewals, dataset.Duration(spec.Lead), dataset.Duration(spec.Horizon)
		if !spec.Renewals {
			p.Record.Every = spec.Every
		}
	case TaskConversion:
		if spec.From.IsZero() {
			spec.From = ext.FirstUsage.UTC().Truncate(24*time.Hour).AddDate(0, 0, spec.TrialDay+1)
		}
		c := &dataset.Conversion{TrialDay: spec.TrialDay, TrialDays: spec.Features.TrialDays, Grace: spec.Grace,
			From: spec.From, To: spec.To, DataEnd: spec.DataEnd}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		p.Task, p.Labels = c, ConversionLabels(c, spec.Truth)
		p.Back = func(t time.Time) time.Time { return features.AddMonths(t, -1) }
		p.Record.TrialDay = spec.TrialDay
	}
	p.Record.From, p.Record.To = spec.From, spec.To
	p.eventFeatures, p.testFrom = spec.EventFeatures, spec.Options.TestFrom
	if p.Record.Catalog, err = spec.Features.Catalog(); err != nil {
		return nil, err
	}
	return p, nil
}

// Collect fixes the plan's vocabularies from src (dataset.Vocabulary,
// reading only events before the test period when it is set) and builds
// its examples, logging the sweep to log. The record then holds the
// feature configuration and catalog of the examples' columns.
func (p *Plan) Collect(ctx context.Context, src dataset.Source, log *slog.Logger) (*Examples, dataset.Stats, error) {
	start := time.Now()
	cfg, err := dataset.Vocabulary(ctx, src, p.Record.Features, dataset.VocabularyOptions{EventFeatures: p.eventFeatures, Before: p.testFrom})
	if err != nil {
		return nil, dataset.Stats{}, err
	}
	if p.Record.Catalog, err = cfg.Catalog(); err != nil {
		return nil, dataset.Stats{}, err
	}
	p.Record.Features = cfg
	e, stats, err := Collect(ctx, src, p.Task, dataset.Options{Features: cfg}, p.Labels)
	if err != nil {
		return nil, stats, err
	}
	log.InfoContext(ctx, "built dataset", "task", p.Record.Task, "accounts", stats.Accounts, "events", stats.Events,
		"rows", stats.Rows, "seconds", time.Since(start).Seconds())
	return e, stats, nil
}

// TrainAndRegister plans spec against st's extent (see Spec.Plan), builds
// its examples from the histories of src, trains a model with Train and
// registers it in st with its Record, as spec.Activation and spec.Guard
// say.
func TrainAndRegister(ctx context.Context, st Store, src dataset.Source, spec Spec) (*Trained, error) {
	ext, err := st.Extent(ctx)
	if err != nil {
		return nil, err
	}
	p, err := spec.Plan(ext)
	if err != nil {
		return nil, err
	}
	e, stats, err := p.Collect(ctx, src, spec.Options.logger())
	if err != nil {
		return nil, err
	}
	task, rec := p.Record.Task, p.Record
	r, err := Train(ctx, e, spec.Options)
	if err != nil {
		return nil, fmt.Errorf("training %s: %w", task, err)
	}
	rec.Result = r
	if task == TaskConversion {
		rec.PQLThreshold, rec.PQLShare = pqlFromHistogram(r.Curves.Scores)
	}
	a := r.Artifact
	a.Metadata.Task, a.Metadata.Label, a.Metadata.IDColumn = task, task, "account_id"
	a.Metadata.TrainedAt = time.Now().UTC().Truncate(time.Second)
	var buf bytes.Buffer
	if err := models.EncodeArtifact(&buf, a); err != nil {
		return nil, err
	}
	m := &RegisteredModel{Task: task, Algorithm: a.Algorithm, WindowStart: r.WindowStart, WindowEnd: r.WindowEnd,
		TestAUC: r.Evaluation.Test.AUC, Record: rec, Artifact: buf.Bytes()}
	act, guarded := spec.Activation, spec.Guard.Check(r.Evaluation.Test)
	if act == ActivateAuto && guarded != "" {
		act = ActivateNever
	}
	prev, err := st.RegisterModel(ctx, m, act)
	if err != nil {
		return nil, err
	}
	return &Trained{Model: m, Previous: prev, Result: r, Dataset: stats, Guarded: guarded}, nil
}
