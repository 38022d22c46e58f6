package serving

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
)

// fixture loads a small simulated history into s and trains both models.
func fixture(t *testing.T, s *store.Store) (*Scorer, time.Time) {
	t.Helper()
	ctx := context.Background()
	cfg := simulate.Config{Accounts: 300, Months: 12, Seed: 11}
	if err := demo.Generate(ctx, s, cfg); err != nil {
		t.Fatal(err)
	}
	fc := demo.Features()
	for _, task := range Tasks {
		if _, err := demo.Train(ctx, s, task, cfg.End(), fc, "logreg"); err != nil {
			t.Fatal(err)
		}
	}
	return &Scorer{Registry: s, Reference: s, Bands: DefaultBands()}, cfg.End()
}

// snapshot returns every current score by account and task.
func snapshot(t *testing.T, s *store.Store) map[string]score.Score {
	t.Helper()
	out := map[string]score.Score{}
	for _, task := range Tasks {
		rows, err := s.ScoreRows(context.Background(), score.ListQuery{Task: task, Limit: 1 << 20}) // with their details
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out[r.AccountID+"/"+task] = r.Score
		}
	}
	return out
}

func countAll(t *testing.T, s *store.Store) int64 {
	var n int64
	for _, task := range Tasks {
		c, err := s.CountScores(context.Background(), task)
		if err != nil {
			t.Fatal(err)
		}
		n += c
	}
	return n
}

func TestBatchShardsEqualOneRunAndResume(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scorer, end := fixture(t, s)
		asOf := end.AddDate(0, 0, -3)
		batch := func(shard store.Shard) *Batch {
			return &Batch{Store: s, Scorer: scorer, Tasks: Tasks, AsOf: asOf, Shard: shard,
				Alerts: &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}}
		}

		// Three shards at once.
		var wg sync.WaitGroup
		reports := make([]Report, 3)
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := batch(store.Shard{Index: i, Count: 3}).Run(ctx)
				if err != nil {
					t.Error(err)
				}
				reports[i] = rep
			}()
		}
		wg.Wait()
		var accounts, scored int64
		for _, r := range reports {
			accounts += r.Accounts
			scored += r.Scored[TaskChurn] + r.Scored[TaskConversion]
			if len(r.Failed) > 0 {
				t.Errorf("shard %s failed accounts: %v", r.Shard, r.Failed)
			}
		}
		sharded := snapshot(t, s)
		if int64(len(sharded)) != scored || scored == 0 || countAll(t, s) != scored {
			t.Fatalf("shards scored %d, stored %d current and %d rows", scored, len(sharded), countAll(t, s))
		}

		// One unsharded run replaces exactly the same rows with the same scores.
		rep, err := batch(store.Shard{}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Accounts != accounts || rep.Scored[TaskChurn]+rep.Scored[TaskConversion] != scored || rep.Alerts != 0 {
			t.Errorf("unsharded run: %+v; shards read %d accounts and scored %d", rep, accounts, scored)
		}
		if n := countAll(t, s); n != scored {
			t.Errorf("after re-running: %d score rows, want %d", n, scored)
		}
		for k, want := range snapshot(t, s) {
			got := sharded[k]
			if got.Fingerprint != want.Fingerprint || got.Probability != want.Probability || !reflect.DeepEqual(got.Detail, want.Detail) {
				t.Errorf("%s: sharded %+v, unsharded %+v", k, got, want)
			}
		}

		// A run killed midway, then run again, completes without duplicates.
		later := asOf.AddDate(0, 0, 1)
		killed := batch(store.Shard{})
		killed.AsOf = later
		kctx, cancel := context.WithCancel(ctx)
		killed.ProgressEvery = time.Nanosecond
		killed.Progress = func(r Report) {
			if r.Accounts > 0 {
				cancel()
			}
		}
		if _, err := killed.Run(kctx); !errors.Is(err, context.Canceled) {
			t.Errorf("killed run returned %v, want context.Canceled", err)
		}
		again := batch(store.Shard{})
		again.AsOf = later
		full, err := again.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n, want := countAll(t, s), scored+full.Scored[TaskChurn]+full.Scored[TaskConversion]; n != want {
			t.Errorf("after a killed and a full run at a second date: %d rows, want %d", n, want)
		}
		for k, sc := range snapshot(t, s) {
			if _, before := sharded[k]; before && (!sc.AsOf.Equal(later) || math.IsNaN(sc.Previous)) {
				t.Errorf("%s: current score as of %v with previous %v", k, sc.AsOf, sc.Previous)
				break
			}
		}
	})
}

func TestScoreDetail(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	scorer, end := fixture(t, s)
	ctx := context.Background()
	for _, task := range Tasks {
		m, err := scorer.Model(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := (&Batch{Store: s, Scorer: scorer, Tasks: []string{task}, AsOf: end}).Run(ctx)
		if err != nil || rep.Scored[task] == 0 {
			t.Fatalf("%s: %+v, %v", task, rep, err)
		}
		top, err := s.CurrentScores(ctx, score.Query{Task: task, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		sc := top[0]
		if sc.ModelVersion != m.Version || sc.Fingerprint == "" || !sc.AsOf.Equal(end) {
			t.Errorf("%s: %+v", task, sc)
		}
		if task == TaskChurn && (sc.Health != Health(sc.Probability, 30) || sc.Band != scorer.Bands.Band(sc.Health) ||
			math.Abs(sc.RevenueAtRisk-sc.Probability*sc.ARR) > 1e-9) {
			t.Errorf("churn score %+v", sc)
		}
		if task == TaskConversion && (m.PQLThreshold <= 0 || m.PQLThreshold >= 1 || sc.PQL != (sc.Probability >= m.PQLThreshold)) {
			t.Errorf("conversion score %+v with PQL threshold %v", sc, m.PQLThreshold)
		}
		t.Logf("%s: %+v", task, sc.Detail)
	}
}

// TestCurrentMeansCurrent replays weekly batches over the last two months
// of a simulated book: after the latest, the current scores are exactly
// the customers (churn) and open trials (conversion) as of its time, so
// no churned account or closed trial is listed or counted, and the bands'
// ARR sums to the customers' MRR × 12.
func TestCurrentMeansCurrent(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	scorer, end := fixture(t, s)
	ctx := context.Background()
	var retired int64
	for w := 8; w >= 0; w-- {
		rep, err := (&Batch{Store: s, Scorer: scorer, Tasks: Tasks, AsOf: end.AddDate(0, 0, -7*w)}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		retired += rep.Retired[TaskChurn] + rep.Retired[TaskConversion]
	}
	if retired == 0 {
		t.Fatal("nine weekly batches retired no score: the book had no churn, conversion or expired trial")
	}
	b, err := features.NewBuilder(demo.Features())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{TaskChurn: {}, TaskConversion: {}}
	var mrr float64
	err = s.Histories(ctx, store.Shard{}, func(h *features.History) error {
		vs, err := b.Build(h, []time.Time{end}, nil)
		if err != nil {
			return err
		}
		if vs[0].Paying() {
			want[TaskChurn][h.AccountID] = true
			mrr += vs[0].Value("mrr")
		}
		if vs[0].InTrial() {
			want[TaskConversion][h.AccountID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range Tasks {
		rows, err := s.ScoreRows(ctx, score.ListQuery{Task: task, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, r := range rows {
			got[r.AccountID] = true
			if !want[task][r.AccountID] {
				t.Errorf("%s: %s is listed but not scored by the task as of %s (its score is as of %s)", task, r.AccountID,
					end.Format(time.DateOnly), r.AsOf.Format(time.DateOnly))
			}
		}
		if len(got) != len(want[task]) {
			t.Errorf("%s: %d current scores, want %d", task, len(got), len(want[task]))
		}
		t.Logf("%s: %d current scores", task, len(got))
	}
	bands, err := s.RiskByBand(ctx, TaskChurn)
	if err != nil {
		t.Fatal(err)
	}
	var arr float64
	for _, bt := range bands {
		arr += bt.ARR
	}
	if math.Abs(arr-12*mrr) > 0.01 {
		t.Errorf("bands' ARR %.2f, customers' MRR × 12 %.2f", arr, 12*mrr)
	}
	t.Logf("retired %d scores; ARR %.0f", retired, arr)
}

// TestExpectedChurnersMatchObserved checks that the stored churn
// probabilities are what they claim: a model trained on data up to a cut
// scores the book at three monthly as-of dates after it, and at each the
// sum of the customers' probabilities (the expected churners over the
// model's label window) is compared with the customers who churned in
// that window (dataset.Churn's labels, the training definition). Over the
// three windows the observed count must be within 3 standard deviations
// (the square root of Σ p(1−p), the Poisson-binomial spread) of the
// expected one.
func TestExpectedChurnersMatchObserved(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "sqlite")
	cfg := simulate.Config{Accounts: 1200, Months: 14, Seed: 23}
	if err := demo.Generate(ctx, s, cfg); err != nil {
		t.Fatal(err)
	}
	cut := cfg.End().AddDate(0, -4, 0)
	m, err := demo.Train(ctx, s, TaskChurn, cut, demo.Features(), "logreg")
	if err != nil {
		t.Fatal(err)
	}
	rec := m.Record
	scorer := &Scorer{Registry: s, Reference: s, Bands: DefaultBands()}
	b, err := features.NewBuilder(demo.Features())
	if err != nil {
		t.Fatal(err)
	}
	var expected, variance, observed float64
	for k := range 3 {
		asOf := cut.AddDate(0, k, 0)
		if _, err := (&Batch{Store: s, Scorer: scorer, Tasks: []string{TaskChurn}, AsOf: asOf}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := s.ScoreRows(ctx, score.ListQuery{Task: TaskChurn, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		p := map[string]float64{}
		for _, r := range rows {
			if r.AsOf.Equal(asOf) {
				p[r.AccountID] = r.Probability
			}
		}
		task := &dataset.Churn{Schedule: []time.Time{asOf}, Lead: time.Duration(rec.Lead), Horizon: time.Duration(rec.Horizon),
			Grace: time.Duration(rec.Grace), DataEnd: cfg.End()}
		var exp, obs float64
		err = s.Histories(ctx, store.Shard{}, func(h *features.History) error {
			pk, scored := p[h.AccountID]
			if !scored {
				return nil
			}
			vs, err := b.Build(h, []time.Time{asOf}, nil)
			if err != nil {
				return err
			}
			y, kept := task.Label(h, &vs[0])
			if !kept {
				return nil // churned inside the lead, as training leaves out
			}
			exp, variance, obs = exp+pk, variance+pk*(1-pk), obs+y
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("as of %s: %d scored, %.1f churners expected, %.0f observed", asOf.Format(time.DateOnly), len(p), exp, obs)
		expected, observed = expected+exp, observed+obs
	}
	sd := math.Sqrt(variance)
	if observed == 0 || math.Abs(observed-expected) > 3*sd {
		t.Errorf("%.0f churners observed in three windows, %.1f expected (±%.1f at 3 sd)", observed, expected, 3*sd)
	}
}

// recordingReference is a Reference that records the shards it was asked
// for and the accounts it served.
type recordingReference struct {
	Reference
	shards   []store.Shard
	accounts map[string]bool
}

func (r *recordingReference) Histories(ctx context.Context, shard store.Shard, fn func(*features.History) error) error {
	r.shards = append(r.shards, shard)
	return r.Reference.Histories(ctx, shard, func(h *features.History) error {
		r.accounts[h.AccountID] = true
		return fn(h)
	})
}

// TestReferenceSample checks that typical values and the book come from
// whole ranges of the accounts' hash, read from its start until the
// sample holds enough eligible accounts: a uniform sample, not the first
// (oldest) ids.
func TestReferenceSample(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	_, _ = fixture(t, s)
	ctx := context.Background()
	defer func(n int) { referenceAccounts = n }(referenceAccounts)
	referenceAccounts = 40
	ref := &recordingReference{Reference: s, accounts: map[string]bool{}}
	m, err := (&Scorer{Registry: s, Reference: ref, Bands: DefaultBands()}).Model(ctx, TaskChurn)
	if err != nil {
		t.Fatal(err)
	}
	n := len(ref.shards)
	if n == 0 || n == len(referenceRanges) || !reflect.DeepEqual(ref.shards, referenceRanges[:n]) {
		t.Fatalf("read shards %v, want a proper prefix of %v", ref.shards, referenceRanges)
	}
	if m.book.Len() < referenceAccounts {
		t.Errorf("book of %d accounts, want at least %d", m.book.Len(), referenceAccounts)
	}
	// The ranges read cover buckets [0, hi): exactly those accounts.
	last := ref.shards[n-1]
	var all, below []string
	err = s.Histories(ctx, store.Shard{}, func(h *features.History) error {
		all = append(all, h.AccountID)
		if store.ShardBucket(h.AccountID)*last.Count < (last.Index+1)*store.ShardBuckets {
			below = append(below, h.AccountID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(below) != len(ref.accounts) || len(below) == len(all) {
		t.Fatalf("sampled %d of %d accounts, want the %d of the ranges read", len(ref.accounts), len(all), len(below))
	}
	for _, id := range below {
		if !ref.accounts[id] {
			t.Fatalf("%s is in the ranges read but not in the sample", id)
		}
	}
	t.Logf("sampled %d of %d accounts from %d ranges; book %d", len(ref.accounts), len(all), n, m.book.Len())
}
