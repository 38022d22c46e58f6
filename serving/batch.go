package serving

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
)

// BatchStore is what a batch run reads and writes.
type BatchStore interface {
	Histories(ctx context.Context, shard store.Shard, fn func(h *features.History) error) error
	PreviousProbabilities(ctx context.Context, task string, asOf time.Time, accountIDs []string) (map[string]float64, error)
	PutScores(ctx context.Context, scores []score.Score) error
}

// Batch scores every account of a shard as of one time, stores the scores
// and raises alerts.
type Batch struct {
	Store  BatchStore
	Scorer *Scorer
	// Alerts is nil to score without raising alerts.
	Alerts *alerts.Engine
	Tasks  []string
	AsOf   time.Time
	Shard  store.Shard
	// Workers build and score accounts in parallel; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called about every ProgressEvery (default
	// 5 s) and once at the end.
	Progress      func(Report)
	ProgressEvery time.Duration
}

// Report says what a batch run did.
type Report struct {
	AsOf  time.Time `json:"as_of"`
	Shard string    `json:"shard"`
	// Accounts counts the accounts read; Scored the scores stored per
	// task; Skipped the accounts no task scores as of AsOf.
	Accounts int64            `json:"accounts"`
	Scored   map[string]int64 `json:"scored"`
	Skipped  int64            `json:"skipped"`
	Alerts   int64            `json:"alerts"`
	Failed   []Failure        `json:"failed"`
	Models   map[string]int64 `json:"models"`
	Elapsed  time.Duration    `json:"elapsed_ns"`
}

// Failure is an account that could not be scored.
type Failure struct {
	AccountID string `json:"account_id"`
	Error     string `json:"error"`
}

// item is one account on its way through a batch.
type item struct {
	h      features.History
	scores []score.Score
	err    error
}

// flushSize is how many accounts a batch stores in one transaction.
const flushSize = 256

// Run scores the shard. It returns an error, with the report so far, when
// the store fails or ctx ends; accounts that fail to score are listed in
// the report instead. Every write is keyed by (account, task, as_of,
// model version), so a run that was killed can simply be run again.
func (b *Batch) Run(ctx context.Context) (Report, error) {
	start := time.Now()
	rep := Report{AsOf: b.AsOf, Shard: b.Shard.String(), Scored: map[string]int64{}, Models: map[string]int64{}}
	ms := map[string]*Model{}
	for _, task := range b.Tasks {
		m, err := b.Scorer.Model(ctx, task)
		if err != nil {
			return rep, fmt.Errorf("loading the %s model: %w", task, err)
		}
		ms[task], rep.Models[task] = m, m.Version
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := b.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// The collector holds up to flushSize items, the writer up to two
	// chunks of flushSize, and the workers and the reader a few more each.
	free := make(chan *item, 3*flushSize+4*workers)
	for range cap(free) {
		free <- new(item)
	}
	jobs, done := make(chan *item), make(chan *item)
	var readErr error
	go func() {
		defer close(jobs)
		readErr = b.Store.Histories(ctx, b.Shard, func(h *features.History) error {
			var it *item
			select {
			case it = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
			it.h.CopyFrom(h)
			jobs <- it
			return nil
		})
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.work(ms, jobs, done)
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// A writer stores each chunk while the next is read and scored; it
	// returns the chunk's items to the pool when done.
	chunks := make(chan []*item, 1)
	var (
		mu       sync.Mutex // guards rep while the writer updates it
		storeErr error
		wrote    = make(chan struct{})
	)
	go func() {
		defer close(wrote)
		for chunk := range chunks {
			if storeErr == nil {
				mu.Lock()
				storeErr = b.flush(ctx, ms, chunk, &rep)
				mu.Unlock()
				if storeErr != nil {
					cancel()
				}
			}
			for _, it := range chunk {
				free <- it
			}
		}
	}()
	every := b.ProgressEvery
	if every == 0 {
		every = 5 * time.Second
	}
	last := time.Now()
	report := func() {
		mu.Lock()
		rep.Elapsed = time.Since(start)
		b.Progress(rep)
		mu.Unlock()
	}
	var pending []*item
	for it := range done {
		mu.Lock()
		rep.Accounts++
		mu.Unlock()
		pending = append(pending, it)
		if len(pending) == flushSize {
			chunks <- pending
			pending = nil
		}
		if b.Progress != nil && time.Since(last) >= every {
			report()
			last = time.Now()
		}
	}
	if len(pending) > 0 {
		chunks <- pending
	}
	close(chunks)
	<-wrote
	rep.Elapsed = time.Since(start)
	if b.Progress != nil {
		report()
	}
	return rep, errors.Join(storeErr, readErr)
}

// work builds and scores the accounts from jobs on one goroutine. Each
// task builds its vectors with its model's feature configuration; tasks
// whose configurations are equal share one vector.
func (b *Batch) work(ms map[string]*Model, jobs <-chan *item, done chan<- *item) {
	type build struct {
		cfg     features.Config
		builder *features.Builder
		err     error
		vs      []features.Vector
	}
	var builds []*build
	byTask := map[string]*build{}
	for _, task := range b.Tasks {
		cfg := ms[task].Features
		i := slices.IndexFunc(builds, func(x *build) bool { return reflect.DeepEqual(x.cfg, cfg) })
		if i < 0 {
			nb := &build{cfg: cfg}
			nb.builder, nb.err = features.NewBuilder(cfg)
			builds, i = append(builds, nb), len(builds)
		}
		byTask[task] = builds[i]
	}
	for it := range jobs {
		it.scores, it.err = it.scores[:0], nil
		for _, x := range builds {
			if x.err != nil {
				it.err = x.err
				break
			}
			if x.vs, it.err = x.builder.Build(&it.h, []time.Time{b.AsOf}, x.vs); it.err != nil {
				break
			}
		}
		for _, task := range b.Tasks {
			if it.err != nil {
				break
			}
			sc, err := ms[task].Score(&byTask[task].vs[0], it.h.Account, b.Scorer.Bands)
			switch {
			case errors.Is(err, ErrNotEligible):
			case err != nil:
				it.err = err
			default:
				it.scores = append(it.scores, sc)
			}
		}
		done <- it
	}
}

// flush stores the scores of items with their previous probabilities and
// raises their alerts.
func (b *Batch) flush(ctx context.Context, ms map[string]*Model, items []*item, rep *Report) error {
	ids := map[string][]string{}
	var scores []score.Score
	for _, it := range items {
		switch {
		case it.err != nil:
			rep.Failed = append(rep.Failed, Failure{AccountID: it.h.AccountID, Error: it.err.Error()})
		case len(it.scores) == 0:
			rep.Skipped++
		}
		for _, sc := range it.scores {
			ids[sc.Task] = append(ids[sc.Task], sc.AccountID)
		}
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
	for _, it := range items {
		if it.err != nil {
			continue
		}
		o := alerts.Observation{AsOf: b.AsOf, History: &it.h}
		for _, sc := range it.scores {
			if sc.Task == TaskChurn {
				o.Churn = b.change(sc, ms[sc.Task])
			} else {
				o.Conversion = b.change(sc, ms[sc.Task])
			}
		}
		opened, err := b.Alerts.Raise(ctx, &o, false)
		if err != nil {
			return err
		}
		rep.Alerts += int64(len(opened))
	}
	return nil
}

// change describes a stored score and its previous one for the alert rules.
func (b *Batch) change(sc score.Score, m *Model) *alerts.ScoreChange {
	c := &alerts.ScoreChange{Probability: sc.Probability, Previous: sc.Previous, Band: sc.Band, PQL: sc.PQL}
	if !math.IsNaN(sc.Previous) {
		if sc.Task == TaskChurn {
			c.PreviousBand = b.Scorer.Bands.Band(Health(sc.Previous, m.HorizonDays))
		} else {
			c.PreviousPQL = sc.Previous >= m.PQLThreshold
		}
	}
	return c
}
