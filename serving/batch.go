package serving

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/internal/pipeline"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/trainer"
)

// BatchStore is what a batch run reads and writes.
type BatchStore interface {
	HistoriesUnordered(ctx context.Context, shard store.Shard, streams int, fn func(h *features.History) error) error
	PreviousProbabilities(ctx context.Context, task string, asOf time.Time, accountIDs []string) (map[string]float64, error)
	PutScores(ctx context.Context, scores []score.Score) error
	RetireScores(ctx context.Context, task string, asOf time.Time, accountIDs []string) (int64, error)
	Extent(ctx context.Context) (trainer.Extent, error)
	CurrentProbabilities(ctx context.Context, task string) ([]float64, error)
}

// Batch scores every account of a shard as of one time, stores the scores
// and raises alerts. An account that a task no longer scores as of that
// time (a customer that churned, a trial that converted, expired or was
// lost) loses its current score for the task, so current listings and
// totals hold only customers and open trials; its past scores stay.
type Batch struct {
	Store  BatchStore
	Scorer *Scorer
	// Alerts is nil to score without raising alerts. A run as of a past
	// time (before the data's latest time minus Interval) raises none
	// either, unless AlertPast: alerts are about now, and replaying past
	// batches would open alerts about dates long gone. Either way, alerts
	// of accounts that churned, and trial alerts of trials that converted
	// or ended, by AsOf are resolved.
	Alerts    *alerts.Engine
	AlertPast bool
	// Interval is the scoring interval (0 means a day): a run is past when
	// AsOf is more than Interval before the data's latest time.
	Interval time.Duration
	Tasks    []string
	AsOf     time.Time
	Shard    store.Shard
	// Workers build and score accounts in parallel; 0 means GOMAXPROCS.
	Workers int
	// Streams is how many parts of the shard are read at once, each by
	// queries of its own, so that the store's work overlaps; 0 means
	// defaultStreams. Accounts are then scored in no particular order.
	Streams int
	// Progress, when set, is called about every ProgressEvery (default
	// 5 s) and once at the end.
	Progress      func(Report)
	ProgressEvery time.Duration

	// books are, per task, the probabilities alert thresholds are
	// relative to.
	books map[string]Book
}

// minBook is the fewest current scores that stand for a task's book; with
// fewer (before the first full batch), the model's reference sample does.
const minBook = 50

// Report says what a batch run did.
type Report struct {
	AsOf  time.Time `json:"as_of"`
	Shard string    `json:"shard"`
	// Accounts counts the accounts read; Scored the scores stored per
	// task; Skipped the accounts no task scores as of AsOf.
	Accounts int64            `json:"accounts"`
	Scored   map[string]int64 `json:"scored"`
	Skipped  int64            `json:"skipped"`
	// Retired counts, per task, the current scores removed because the
	// task no longer scores their account.
	Retired map[string]int64 `json:"retired"`
	Alerts  int64            `json:"alerts"`
	// Past says the run was as of a past time, so it opened no alerts;
	// Resolved counts the alerts it resolved.
	Past     bool             `json:"past"`
	Resolved int64            `json:"resolved_alerts"`
	Failed   []Failure        `json:"failed"`
	Models   map[string]int64 `json:"models"`
	Elapsed  time.Duration    `json:"elapsed_ns"`
}

// Failure is an account that could not be scored.
type Failure struct {
	AccountID string `json:"account_id"`
	Error     string `json:"error"`
}

// scored is what scoring found for one account: its scores, or why it
// could not be scored.
type scored struct {
	scores []score.Score
	err    error
}

// item is one scored account waiting to be stored.
type item struct {
	h features.History
	scored
}

// defaultStreams is how many parts of its shard a batch reads at once by
// default: with two, one part's rows are read and decoded while the
// other's wait on the database.
const defaultStreams = 2

// flushSize is how many accounts a batch stores in one transaction.
const flushSize = 256

// inFlight is how many accounts a batch reads ahead of the one it hands
// to be stored: enough to keep the workers busy while the reader waits
// for the store, few enough that their histories take little memory.
const inFlight = 64

// Run scores the shard. It returns an error, with the report so far, when
// a model's feature configuration is invalid, the store fails or ctx
// ends; accounts that fail to score are listed in the report instead, by
// account id.
// Every write is keyed by (account, task, as_of, model version), so a run
// that was killed can simply be run again.
//
// Accounts are read and scored while earlier ones are stored, flushSize
// at a time, on a goroutine of their own. Memory is that of the
// histories of at most inFlight + 2 × flushSize accounts, whatever the
// number of accounts in the shard.
func (b *Batch) Run(ctx context.Context) (Report, error) {
	start := time.Now()
	rep := Report{AsOf: b.AsOf, Shard: b.Shard.String(), Scored: map[string]int64{}, Retired: map[string]int64{}, Models: map[string]int64{}}
	if b.Alerts != nil && !b.AlertPast {
		ext, err := b.Store.Extent(ctx)
		if err != nil {
			return rep, err
		}
		interval := b.Interval
		if interval <= 0 {
			interval = 24 * time.Hour
		}
		rep.Past = b.AsOf.Before(ext.Last.Add(-interval))
	}
	ms := map[string]*Model{}
	b.books = map[string]Book{}
	for _, task := range b.Tasks {
		m, err := b.Scorer.Model(ctx, task)
		if err != nil {
			return rep, fmt.Errorf("loading the %s model: %w", task, err)
		}
		ms[task], rep.Models[task] = m, m.Version
		b.books[task] = m.book
		if b.Alerts != nil {
			// The current scores are the whole book, as the last batch
			// left it, where the reference sample is a few hundred of
			// them as of the model's training end.
			ps, err := b.Store.CurrentProbabilities(ctx, task)
			if err != nil {
				return rep, err
			}
			if len(ps) >= minBook {
				b.books[task] = NewBook(ps)
			}
		}
	}
	workers := make([]*accountScorer, pipeline.Workers(b.Workers))
	for i := range workers {
		w, err := b.newAccountScorer(ms)
		if err != nil {
			return rep, err
		}
		workers[i] = w
	}
	every := b.ProgressEvery
	if every == 0 {
		every = 5 * time.Second
	}
	f := b.startFlusher(ctx, ms, &rep)
	var accounts int64
	last := time.Now()
	report := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		rep.Accounts, rep.Elapsed = accounts, time.Since(start)
		b.Progress(rep)
	}
	// Scored accounts wait in pending until flushSize of them are handed
	// to the flusher; pending then swaps with the chunk the flusher has
	// finished. An item takes its account's history over from the sweep,
	// leaving it an empty one, so that no buffer keeps the size of the
	// largest account it ever held.
	pending, stored := newChunk(), newChunk()
	n := 0
	streams := b.Streams
	if streams <= 0 {
		streams = defaultStreams
	}
	src := dataset.SourceFunc(func(ctx context.Context, fn func(h *features.History) error) error {
		return b.Store.HistoriesUnordered(ctx, b.Shard, streams, fn)
	})
	err := dataset.Stream(ctx, src, pipeline.Options{Workers: len(workers), InFlight: inFlight},
		func(w int, h *features.History, sc *scored) error {
			workers[w].score(h, sc)
			return nil
		},
		func(h *features.History, sc *scored) error {
			accounts++
			it := pending[n]
			it.h, *h = *h, features.History{}
			it.scored, *sc = *sc, it.scored
			if n++; n == flushSize {
				n = 0
				if err := f.store(pending); err != nil {
					return err
				}
				pending, stored = stored, pending
			}
			if b.Progress != nil && time.Since(last) >= every {
				report()
				last = time.Now()
			}
			return nil
		})
	if err == nil && n > 0 {
		err = f.store(pending[:n])
	}
	if ferr := f.wait(); err == nil {
		err = ferr
	}
	rep.Accounts, rep.Elapsed = accounts, time.Since(start)
	slices.SortFunc(rep.Failed, func(a, b Failure) int { return strings.Compare(a.AccountID, b.AccountID) })
	if b.Progress != nil {
		report()
	}
	return rep, err
}

// newChunk returns flushSize empty items.
func newChunk() []*item {
	c := make([]*item, flushSize)
	for i := range c {
		c[i] = new(item)
	}
	return c
}

// flusher stores chunks of scored accounts on a goroutine of its own.
type flusher struct {
	chunks chan []*item
	done   chan struct{}
	mu     sync.Mutex // guards rep, which Run reports from, and err
	rep    *Report
	err    error
}

// startFlusher starts a flusher that adds what it stores to rep.
func (b *Batch) startFlusher(ctx context.Context, ms map[string]*Model, rep *Report) *flusher {
	f := &flusher{chunks: make(chan []*item), done: make(chan struct{}), rep: rep}
	go func() {
		defer close(f.done)
		for items := range f.chunks {
			if f.failed() != nil {
				continue // Run stops at its next store
			}
			// Past is the run's: flush opens no alerts for a past batch.
			did := Report{Scored: map[string]int64{}, Retired: map[string]int64{}, Past: f.rep.Past}
			err := b.flush(ctx, ms, items, &did)
			for _, it := range items {
				*it = item{} // the histories are no longer needed
			}
			f.mu.Lock()
			f.rep.add(&did)
			f.err = err
			f.mu.Unlock()
		}
	}()
	return f
}

// store hands items to the flusher once it has stored the chunk before,
// so that the caller may then reuse that chunk's items, and returns the
// error of an earlier flush.
func (f *flusher) store(items []*item) error {
	f.chunks <- items
	return f.failed()
}

// failed returns the error of a flush, if one failed.
func (f *flusher) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// wait waits for the chunk being stored and returns the error of the
// flush that failed, if any.
func (f *flusher) wait() error {
	close(f.chunks)
	<-f.done
	return f.failed()
}

// add adds the counts and failures of d to r.
func (r *Report) add(d *Report) {
	r.Skipped += d.Skipped
	r.Alerts += d.Alerts
	r.Resolved += d.Resolved
	r.Failed = append(r.Failed, d.Failed...)
	for task, n := range d.Scored {
		r.Scored[task] += n
	}
	for task, n := range d.Retired {
		r.Retired[task] += n
	}
}

// accountScorer builds and scores accounts on one goroutine. Each task
// builds its vectors with its model's feature configuration; tasks whose
// configurations are equal share one vector.
type accountScorer struct {
	batch  *Batch
	models map[string]*Model
	builds []*build
	byTask map[string]*build
}

// build is one feature configuration's builder and last vectors.
type build struct {
	cfg     features.Config
	builder *features.Builder
	vs      []features.Vector
}

func (b *Batch) newAccountScorer(ms map[string]*Model) (*accountScorer, error) {
	w := &accountScorer{batch: b, models: ms, byTask: map[string]*build{}}
	for _, task := range b.Tasks {
		cfg := ms[task].Features
		i := slices.IndexFunc(w.builds, func(x *build) bool { return reflect.DeepEqual(x.cfg, cfg) })
		if i < 0 {
			nb := &build{cfg: cfg}
			var err error
			if nb.builder, err = features.NewBuilder(cfg); err != nil {
				return nil, fmt.Errorf("the %s model's features: %w", task, err)
			}
			w.builds, i = append(w.builds, nb), len(w.builds)
		}
		w.byTask[task] = w.builds[i]
	}
	return w, nil
}

// score fills out with the scores of h's account as of the batch's time,
// or with the error that kept it from being scored.
func (w *accountScorer) score(h *features.History, out *scored) {
	out.scores, out.err = out.scores[:0], nil
	for _, x := range w.builds {
		if x.vs, out.err = x.builder.Build(h, []time.Time{w.batch.AsOf}, x.vs); out.err != nil {
			return
		}
	}
	for _, task := range w.batch.Tasks {
		sc, err := w.models[task].Score(&w.byTask[task].vs[0], h.Account, w.batch.Scorer.Bands)
		switch {
		case errors.Is(err, ErrNotEligible):
		case err != nil:
			out.err = err
			return
		default:
			out.scores = append(out.scores, sc)
		}
	}
}

// flush stores the scores of items with their previous probabilities and
// raises their alerts.
func (b *Batch) flush(ctx context.Context, ms map[string]*Model, items []*item, rep *Report) error {
	ids, retire := map[string][]string{}, map[string][]string{}
	var scores []score.Score
	for _, it := range items {
		switch {
		case it.err != nil:
			rep.Failed = append(rep.Failed, Failure{AccountID: it.h.AccountID, Error: it.err.Error()})
			continue
		case len(it.scores) == 0:
			rep.Skipped++
		}
		for _, task := range b.Tasks {
			if slices.IndexFunc(it.scores, func(sc score.Score) bool { return sc.Task == task }) < 0 {
				retire[task] = append(retire[task], it.h.AccountID)
			}
		}
		for _, sc := range it.scores {
			ids[sc.Task] = append(ids[sc.Task], sc.AccountID)
		}
	}
	for task, list := range retire {
		n, err := b.Store.RetireScores(ctx, task, b.AsOf, list)
		if err != nil {
			return err
		}
		rep.Retired[task] += n
	}
	prev := map[string]map[string]float64{}
	for task, list := range ids {
		p, err := b.Store.PreviousProbabilities(ctx, task, b.AsOf, list)
		if err != nil {
			return err
		}
		prev[task] = p
	}
	for _, it := range items {
		for i := range it.scores {
			sc := &it.scores[i]
			if p, ok := prev[sc.Task][sc.AccountID]; ok {
				sc.Previous = p
			}
			scores = append(scores, *sc)
		}
	}
	if err := b.Store.PutScores(ctx, scores); err != nil {
		return err
	}
	for _, sc := range scores {
		rep.Scored[sc.Task]++
	}
	if b.Alerts == nil {
		return nil
	}
	accounts := make([]*features.Account, 0, len(items))
	for _, it := range items {
		accounts = append(accounts, it.h.Account)
	}
	resolved, err := b.Alerts.Settle(ctx, b.AsOf, accounts)
	if err != nil {
		return err
	}
	rep.Resolved += resolved
	if rep.Past {
		return nil
	}
	// The chunk's alerts are opened in one transaction when the alert
	// store can: one commit for all, not one each.
	eng, commit := b.Alerts, func() error { return nil }
	if s, ok := b.Alerts.Store.(alertBatcher); ok {
		batch, err := s.BeginAlerts(ctx)
		if err != nil {
			return err
		}
		defer batch.Rollback()
		e := *b.Alerts
		e.Store = batchedAlerts{AlertStore: b.Alerts.Store, batch: batch}
		eng, commit = &e, batch.Commit
	}
	var opened int64
	for _, it := range items {
		if it.err != nil || len(it.scores) == 0 {
			continue // an account no task scores is neither a customer nor an open trial
		}
		o := alerts.Observation{AsOf: b.AsOf, History: &it.h}
		for _, sc := range it.scores {
			if sc.Task == TaskChurn {
				o.Churn = b.change(sc, ms[sc.Task])
			} else {
				o.Conversion = b.change(sc, ms[sc.Task])
			}
		}
		as, err := eng.Raise(ctx, &o, false)
		if err != nil {
			return err
		}
		opened += int64(len(as))
	}
	if err := commit(); err != nil {
		return err
	}
	rep.Alerts += opened
	return nil
}

// alertBatcher is an alert store that can open many alerts in one
// transaction (store.Store).
type alertBatcher interface {
	BeginAlerts(ctx context.Context) (*store.AlertBatch, error)
}

// batchedAlerts opens alerts within batch; Raise resolves none.
type batchedAlerts struct {
	alerts.AlertStore
	batch *store.AlertBatch
}

func (b batchedAlerts) OpenAlert(ctx context.Context, a alerts.Alert, d alerts.Delivery, cooldownSince time.Time) (bool, error) {
	return b.batch.OpenAlert(ctx, a, d, cooldownSince)
}

// change describes a stored score and its previous one for the alert rules.
func (b *Batch) change(sc score.Score, m *Model) *alerts.ScoreChange {
	c := &alerts.ScoreChange{Probability: sc.Probability, Previous: sc.Previous, Band: sc.Band, PQL: sc.PQL,
		TopShare: b.books[sc.Task].Share(sc.Probability), BaseRate: b.books[sc.Task].Mean()}
	if !math.IsNaN(sc.Previous) {
		if sc.Task == TaskChurn {
			c.PreviousBand = b.Scorer.Bands.Band(Health(sc.Previous, m.HorizonDays))
		} else {
			c.PreviousPQL = sc.Previous >= m.PQLThreshold
		}
	}
	return c
}
