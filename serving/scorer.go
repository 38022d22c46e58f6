package serving

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/trainer"
)

// The tasks the scorer serves.
const (
	TaskChurn      = trainer.TaskChurn
	TaskConversion = trainer.TaskConversion
)

// Tasks lists the tasks in the order batch runs score them.
var Tasks = []string{TaskChurn, TaskConversion}

// ErrNotEligible is returned for an account that the task does not score
// as of the time asked: churn scores paying accounts, conversion scores
// running trials.
var ErrNotEligible = errors.New("account is not scored by this task at this time")

// Registry is where the scorer finds each task's active model.
// ActiveVersion is polled, so it should be cheap; ActiveModel is read only
// when the version changes.
type Registry interface {
	ActiveVersion(ctx context.Context, task string) (int64, error)
	ActiveModel(ctx context.Context, task string) (*trainer.RegisteredModel, error)
}

// Reference supplies the accounts from which typical feature values are
// taken: those of a few shards (see Model.reference).
type Reference interface {
	Histories(ctx context.Context, shard store.Shard, fn func(h *features.History) error) error
}

// Scorer scores accounts with the active model of each task, reloading it
// when the registry's active version changes. It is safe for concurrent
// use: a reload runs once per task at a time, and requests that arrive
// while it runs are served by the model it replaces.
type Scorer struct {
	Registry  Registry
	Reference Reference // nil leaves typical values unknown
	Bands     Bands
	// PQLThreshold overrides the model's PQL threshold when positive.
	PQLThreshold float64
	// CheckEvery is how often the registry is asked whether the active
	// version changed; zero means every 10 seconds.
	CheckEvery time.Duration

	mu    sync.Mutex // guards slots, not what they hold
	slots map[string]*modelSlot
}

// modelSlot holds a task's loaded model.
type modelSlot struct {
	model   atomic.Pointer[Model]
	checked atomic.Int64 // when the active version was last asked, in Unix nanoseconds
	refresh sync.Mutex   // held by the one check or reload in flight
}

// fresh reports whether the slot's version was checked within every.
func (sl *modelSlot) fresh(every time.Duration) bool {
	return time.Since(time.Unix(0, sl.checked.Load())) < every
}

// Model is an active model ready to score, with what the scorer derived
// from it.
type Model struct {
	Task     string
	Version  int64
	Artifact *models.Artifact
	// Record is what training recorded of the model.
	Record trainer.Record
	// Horizon states what the probability is about, and HorizonDays is the
	// length of a churn model's label window, which the health score
	// annualises.
	Horizon     string
	HorizonDays float64
	// Features configures the builder of the vectors the model scores:
	// the record's, so vectors are built exactly as training built them.
	Features features.Config
	// index maps each artifact feature to its position in a vector, and
	// catalog holds the vector's features.
	index   []int
	catalog []features.Feature
	// Typical is the median of each artifact feature over a reference
	// sample of the accounts the task scores (NaN when unknown).
	Typical []float64
	// PQLThreshold is the conversion probability at or above which a
	// trial is a PQL, PQLShare the share of trials it flags, and
	// PQLSource where the figure came from.
	PQLThreshold float64
	PQLShare     float64
	PQLSource    string
	// book holds the reference accounts' probabilities: the book alert
	// thresholds are relative to until a batch has scored the whole book.
	book Book
	// firstMRR is the median first MRR of the reference accounts that ever
	// paid, by segment ("" for all of them): what a trial is expected to
	// bring when its account states no MRR.
	firstMRR map[string]float64
}

// Book is the probabilities of a book of accounts, against which alert
// thresholds are set: the current scores of a task, or a model's
// reference sample.
type Book struct {
	sorted []float64
	mean   float64
}

// NewBook returns the book of probabilities ps.
func NewBook(ps []float64) Book {
	b := Book{sorted: slices.Sorted(slices.Values(ps))}
	for _, p := range ps {
		b.mean += p / float64(len(ps))
	}
	return b
}

// Len returns the number of accounts in the book.
func (b Book) Len() int { return len(b.sorted) }

// Share returns the share of the book whose probability is at least p,
// NaN for an empty book.
func (b Book) Share(p float64) float64 {
	if len(b.sorted) == 0 {
		return math.NaN()
	}
	return float64(len(b.sorted)-sort.SearchFloat64s(b.sorted, p)) / float64(len(b.sorted))
}

// Mean returns the book's mean probability, its base rate; 0 when empty.
func (b Book) Mean() float64 { return b.mean }

// Model returns the active model of task, loading it on first use and
// again whenever the registry's active version has changed.
func (s *Scorer) Model(ctx context.Context, task string) (*Model, error) {
	every := s.CheckEvery
	if every == 0 {
		every = 10 * time.Second
	}
	sl := s.slot(task)
	cur := sl.model.Load()
	if cur != nil && sl.fresh(every) {
		return cur, nil
	}
	if cur != nil {
		if !sl.refresh.TryLock() {
			return cur, nil // another request is checking: serve the current model meanwhile
		}
	} else {
		sl.refresh.Lock() // nothing to serve yet: wait for the first load
	}
	defer sl.refresh.Unlock()
	if m := sl.model.Load(); m != nil && sl.fresh(every) {
		return m, nil // checked while this request waited
	}
	version, err := s.Registry.ActiveVersion(ctx, task)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", task, err)
	}
	if cur = sl.model.Load(); cur == nil || cur.Version != version {
		if cur, err = s.load(ctx, task); err != nil {
			return nil, err
		}
		sl.model.Store(cur)
	}
	sl.checked.Store(time.Now().UnixNano())
	return cur, nil
}

// slot returns the slot of task, creating it on first use.
func (s *Scorer) slot(task string) *modelSlot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slots[task]
	if sl == nil {
		if s.slots == nil {
			s.slots = map[string]*modelSlot{}
		}
		sl = &modelSlot{}
		s.slots[task] = sl
	}
	return sl
}

// load reads and prepares the active model of task.
func (s *Scorer) load(ctx context.Context, task string) (*Model, error) {
	sm, err := s.Registry.ActiveModel(ctx, task)
	if err != nil {
		return nil, err
	}
	a, err := models.DecodeArtifact(bytes.NewReader(sm.Artifact))
	if err != nil {
		return nil, fmt.Errorf("model %d: %w", sm.Version, err)
	}
	rec := sm.Record
	catalog, err := rec.Features.Catalog()
	if err != nil {
		return nil, fmt.Errorf("model %d: %w", sm.Version, err)
	}
	m := &Model{Task: task, Version: sm.Version, Artifact: a, Record: rec, Features: rec.Features, catalog: catalog,
		Horizon: rec.Outcome(), HorizonDays: rec.HorizonDays()}
	for _, f := range a.Schema() {
		j := features.IndexOf(catalog, f.Name)
		if j < 0 {
			return nil, fmt.Errorf("model %d wants feature %q, which the catalog (version %s) does not have", sm.Version, f.Name, features.CatalogVersion)
		}
		m.index = append(m.index, j)
	}
	asOf := sm.WindowEnd
	if asOf.IsZero() {
		asOf = time.Now().UTC()
	}
	probs, err := m.reference(ctx, s.Reference, rec.Features, asOf)
	if err != nil {
		return nil, err
	}
	if task == TaskConversion {
		m.setPQL(probs, s.PQLThreshold)
	}
	m.book = NewBook(probs)
	return m, nil
}

// The reference sample holds at least referenceAccounts eligible
// accounts where the store has them, reading at most referenceReads (a
// variable for tests of the sampling).
var referenceAccounts, referenceReads = 600, 12_000

// referenceRanges are adjacent shards that, read in order, cover the
// accounts' hash space from its start in ranges that double: 1/64, 1/64,
// 2/64, 4/64, … 1/2.
var referenceRanges = []store.Shard{{Index: 0, Count: 64}, {Index: 1, Count: 64}, {Index: 1, Count: 32},
	{Index: 1, Count: 16}, {Index: 1, Count: 8}, {Index: 1, Count: 4}, {Index: 1, Count: 2}}

// errSampled stops the reference sweep once it has read referenceReads.
var errSampled = errors.New("reference sample complete")

// reference sets m.Typical to the medians of the model's features over a
// sample of the accounts eligible for the task as of asOf, and returns
// their probabilities: the book that relative alert thresholds and the
// PQL fallback read. The sample is the accounts of referenceRanges, read
// range by range until it holds referenceAccounts eligible ones (or
// referenceReads accounts were read): each range is a range of the
// accounts' hash, so the sample is a uniform one of the book, where the
// first ids would be its oldest accounts (and, for conversion, hold
// hardly an open trial). It is the same in every run and shard, so
// stored reasons do not depend on how a batch is split.
func (m *Model) reference(ctx context.Context, ref Reference, cfg features.Config, asOf time.Time) ([]float64, error) {
	m.Typical = make([]float64, len(m.index))
	for i := range m.Typical {
		m.Typical[i] = math.NaN()
	}
	if ref == nil {
		return nil, nil
	}
	b, err := features.NewBuilder(cfg)
	if err != nil {
		return nil, err
	}
	var (
		vs    []features.Vector
		cols  = make([][]float64, len(m.index))
		probs []float64
		row   = make([]float64, len(m.index))
		first = map[string][]float64{}
	)
	read := 0
	sample := func(h *features.History) error {
		if read == referenceReads {
			return errSampled
		}
		read++
		if i := slices.IndexFunc(h.Billing, func(b features.BillingChange) bool { return b.MRR > 0 && b.At.Before(asOf) }); i >= 0 {
			first[""] = append(first[""], h.Billing[i].MRR)
			if h.Account != nil {
				first[h.Account.Segment] = append(first[h.Account.Segment], h.Billing[i].MRR)
			}
		}
		var err error
		if vs, err = b.Build(h, []time.Time{asOf}, vs); err != nil {
			return nil // an account whose records are out of order is left out of the sample
		}
		v := &vs[0]
		if !eligible(m.Task, v) {
			return nil
		}
		m.row(v, row)
		p, err := m.Artifact.Predict(row)
		if err != nil {
			return fmt.Errorf("model %d: %w", m.Version, err)
		}
		probs = append(probs, p)
		for i, x := range row {
			if !math.IsNaN(x) {
				cols[i] = append(cols[i], x)
			}
		}
		return nil
	}
	for _, shard := range referenceRanges {
		err := ref.Histories(ctx, shard, sample)
		if errors.Is(err, errSampled) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading reference accounts: %w", err)
		}
		if len(probs) >= referenceAccounts {
			break
		}
	}
	for i, c := range cols {
		if len(c) > 0 {
			sort.Float64s(c)
			m.Typical[i] = c[len(c)/2]
		}
	}
	m.firstMRR = map[string]float64{}
	for seg, c := range first {
		sort.Float64s(c)
		m.firstMRR[seg] = c[len(c)/2]
	}
	return probs, nil
}

// pqlCapture is the share of conversions the default PQL threshold must
// capture.
const pqlCapture = 0.6

// setPQL sets the PQL threshold: the configured one when positive; else
// the one the record holds, chosen on the model's test set; else, for a
// model whose test set held no conversion, the smallest top share of the
// reference trials whose expected conversions (their summed calibrated
// probabilities) reach 60%. PQLShare is the share of trials that the
// record's or the reference's threshold flags; PQLSource says which
// figure the threshold is.
func (m *Model) setPQL(probs []float64, configured float64) {
	if m.Record.PQLThreshold > 0 {
		m.PQLThreshold, m.PQLShare, m.PQLSource = m.Record.PQLThreshold, m.Record.PQLShare, "model test set (20-bin score histogram)"
	} else {
		m.PQLThreshold, m.PQLShare = CaptureThreshold(probs, nil, pqlCapture)
		m.PQLSource = "expected conversions of reference trials (the model's test set held no conversion)"
	}
	if configured > 0 {
		m.PQLThreshold, m.PQLSource = configured, "configuration"
	}
}

// CaptureThreshold returns the score threshold that flags the smallest
// top share of rows whose captured weight reaches capture of the total,
// and that share. The weight of a row is labels[i] when labels is not nil
// (conversions in a test set) and scores[i] otherwise (expected
// conversions). With no weight at all it returns 1 and 0: nothing is
// flagged.
func CaptureThreshold(scores, labels []float64, capture float64) (threshold, share float64) {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	weight := func(i int) float64 {
		if labels != nil {
			return labels[i]
		}
		return scores[i]
	}
	var total float64
	for i := range scores {
		total += weight(i)
	}
	if total <= 0 {
		return 1, 0
	}
	var got float64
	for k, i := range order {
		got += weight(i)
		if got >= capture*total {
			return scores[i], float64(k+1) / float64(len(scores))
		}
	}
	return scores[order[len(order)-1]], 1
}

// eligible reports whether task scores the account of v as of its time.
func eligible(task string, v *features.Vector) bool {
	if task == TaskConversion {
		return v.InTrial()
	}
	return v.Paying()
}

// row copies the model's features from v into row.
func (m *Model) row(v *features.Vector, row []float64) {
	for i, j := range m.index {
		row[i] = v.Values[j]
	}
}

// reasonCount is how many actionable reasons a score keeps, and
// contextCount how many context facts.
const (
	reasonCount  = 5
	contextCount = 3
)

// Score scores the vector v of an account whose accounts row is account
// (nil if unknown). Previous is left NaN.
func (m *Model) Score(v *features.Vector, account *features.Account, bands Bands) (score.Score, error) {
	if !eligible(m.Task, v) {
		return score.Score{}, fmt.Errorf("%s as of %s: %w", v.AccountID, v.AsOf.Format(time.DateOnly), ErrNotEligible)
	}
	return m.score(v, account, bands)
}

// score is Score without the eligibility check.
func (m *Model) score(v *features.Vector, account *features.Account, bands Bands) (score.Score, error) {
	row := make([]float64, len(m.index))
	m.row(v, row)
	raw, _, contrib, err := m.Artifact.Explain(row)
	if err != nil {
		return score.Score{}, fmt.Errorf("scoring %s with model %d: %w", v.AccountID, m.Version, err)
	}
	p := m.Artifact.Probability(raw)
	schema := m.Artifact.Schema()
	d := score.Detail{Horizon: m.Horizon, Components: map[string]score.Component{}}
	churn := m.Task == TaskChurn
	for _, g := range models.SumByGroup(schema, contrib) {
		d.Components[g.Group] = score.Component{Score: ComponentScore(g.Value, !churn), Contribution: g.Value}
	}
	m.explain(&d, row, contrib)
	sc := score.Score{AccountID: v.AccountID, Task: m.Task, AsOf: v.AsOf, ModelVersion: m.Version,
		Probability: p, Previous: math.NaN(), Fingerprint: fingerprint(m.Version, row), ScoredAt: time.Now().UTC()}
	if account != nil {
		sc.Owner = account.Owner
	}
	if churn {
		sc.Health = Health(p, m.HorizonDays)
		sc.Band = bands.Band(sc.Health)
		if mrr := v.Value("mrr"); !math.IsNaN(mrr) {
			sc.ARR = 12 * mrr
		}
		sc.RevenueAtRisk = p * sc.ARR
		d.RiskWindowDays = int(math.Round((time.Duration(m.Record.Lead) + time.Duration(m.Record.Horizon)).Hours() / 24))
	} else {
		sc.PQL = p >= m.PQLThreshold
		d.PQLThreshold = m.PQLThreshold
		d.Trial = m.trialFacts(v, account)
		sc.ARR = 12 * d.Trial.ExpectedMRR
		sc.RevenueAtRisk = p * sc.ARR
	}
	sc.Detail = d
	return sc, nil
}

// explain fills d's reasons and context from the contributions, strongest
// first: the actionable features, one per signal (the strongest of a
// signal measured per seat and in total, or over two windows, stands for
// it), and the context facts no one can change. A feature whose value
// reads as its typical one ("1 (typical 1)") is no reason a rep can see,
// whatever its contribution (a tree's split can fall between the two), so
// it gives way to the next.
func (m *Model) explain(d *score.Detail, row, contrib []float64) {
	seen := map[string]bool{}
	for _, i := range models.RankContributions(contrib) {
		if len(d.Reasons) == reasonCount && len(d.Context) == contextCount {
			return
		}
		f := m.catalog[m.index[i]]
		switch {
		case !f.Actionable():
			if len(d.Context) < contextCount {
				d.Context = append(d.Context, m.reason(i, row[i], contrib[i]))
			}
		case !seen[f.Signal()] && len(d.Reasons) < reasonCount:
			r := m.reason(i, row[i], contrib[i])
			if r.Typical != nil && r.ValueText() == r.TypicalText() {
				continue
			}
			seen[f.Signal()] = true
			d.Reasons = append(d.Reasons, r)
		}
	}
}

// trialFacts states what the trials worklist shows of the trial of v,
// whose accounts row is account (nil if unknown).
func (m *Model) trialFacts(v *features.Vector, account *features.Account) *score.TrialFacts {
	whole := func(name string) int {
		if x := v.Value(name); !math.IsNaN(x) {
			return int(math.Round(x))
		}
		return 0
	}
	t := &score.TrialFacts{DaysLeft: whole("trial_days_left"), ActiveUsers: whole("trial_users"),
		KeyFeatures: whole("trial_key_features"), KeyFeaturesTotal: len(m.Features.KeyFeatures)}
	if d := v.Value("days_since_last_use"); !math.IsNaN(d) {
		t.LastActiveAt = v.AsOf.Add(-time.Duration(d * 24 * float64(time.Hour))).Truncate(24 * time.Hour)
	}
	segment := ""
	if account != nil {
		t.EndsAt, t.Seats, segment = account.TrialEndsAt, account.Seats, account.Segment
		if account.MRR > 0 {
			t.ExpectedMRR, t.ExpectedMRRFrom = account.MRR, "account"
			return t
		}
	}
	if mrr, ok := m.firstMRR[segment]; ok && segment != "" {
		t.ExpectedMRR, t.ExpectedMRRFrom = mrr, "segment median"
	} else if mrr, ok := m.firstMRR[""]; ok {
		t.ExpectedMRR, t.ExpectedMRRFrom = mrr, "median"
	}
	return t
}

// reason states feature i of the model with value x and contribution c,
// as figures; score.Reason words them.
func (m *Model) reason(i int, x, c float64) score.Reason {
	f := m.catalog[m.index[i]]
	r := score.Reason{Feature: f.Name, Description: f.Description, Group: string(f.Group), Unit: f.Unit, Value: num(x),
		Typical: num(m.Typical[i]), Contribution: c}
	if r.Value == nil {
		r.Missing = f.Missing
	}
	if f.Kind == models.Categorical {
		r.Typical = nil // a median of category codes means nothing
		if r.Value != nil {
			r.Category = fmt.Sprint(x)
			if k := int(x); k >= 0 && k < len(f.Categories) {
				r.Category = f.Categories[k]
			}
		}
	}
	return r
}

// num returns &x, or nil for NaN, which JSON cannot hold.
func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// fingerprint identifies a score's inputs: the catalog version, the model
// version and the exact bits of the model's row.
func fingerprint(version int64, row []float64) string {
	h := sha256.New()
	h.Write([]byte(features.CatalogVersion))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(version))
	h.Write(b[:])
	for _, x := range row {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ScoreHistory scores one account's history h for task as of asOf,
// building its vector on the spot: the on-demand path, used where no
// stored score will do. The score's Previous is left NaN.
func (s *Scorer) ScoreHistory(ctx context.Context, task string, h *features.History, asOf time.Time) (score.Score, error) {
	m, err := s.Model(ctx, task)
	if err != nil {
		return score.Score{}, err
	}
	b, err := features.NewBuilder(m.Features)
	if err != nil {
		return score.Score{}, err
	}
	vs, err := b.Build(h, []time.Time{asOf}, nil)
	if err != nil {
		return score.Score{}, fmt.Errorf("building features of %s: %w", h.AccountID, err)
	}
	return m.Score(&vs[0], h.Account, s.Bands)
}

// ScoreValues scores a raw feature vector given by name, for callers that
// compute features themselves. Features the model uses but values omits
// are missing (NaN); names the catalog does not have are an error. The
// account is assumed eligible, and ARR is not known.
func (s *Scorer) ScoreValues(ctx context.Context, task, id string, values map[string]float64) (score.Score, error) {
	m, err := s.Model(ctx, task)
	if err != nil {
		return score.Score{}, err
	}
	v := &features.Vector{AccountID: id, Version: features.CatalogVersion, Values: make([]float64, len(m.catalog))}
	for i := range v.Values {
		v.Values[i] = math.NaN()
	}
	for name, x := range values {
		j := features.IndexOf(m.catalog, name)
		if j < 0 {
			return score.Score{}, fmt.Errorf("%w: %q", ErrUnknownFeature, name)
		}
		v.Values[j] = x
	}
	return m.score(v, nil, s.Bands)
}

// ErrUnknownFeature is returned for a feature name the catalog does not
// have.
var ErrUnknownFeature = errors.New("unknown feature")
