package serving

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/store"
)

// The tasks the scorer serves.
const (
	TaskChurn      = "churn"
	TaskConversion = "conversion"
)

// Tasks lists the tasks in the order batch runs score them.
var Tasks = []string{TaskChurn, TaskConversion}

// ErrNotEligible is returned for an account that the task does not score
// as of the time asked: churn scores paying accounts, conversion scores
// running trials.
var ErrNotEligible = errors.New("account is not scored by this task at this time")

// Registry is where the scorer finds each task's active model.
type Registry interface {
	Models(ctx context.Context, task string) ([]store.Model, error)
	ActiveModel(ctx context.Context, task string) (*store.Model, error)
}

// Reference supplies the accounts from which typical feature values are
// taken: the first few histories in account order.
type Reference interface {
	Histories(ctx context.Context, shard store.Shard, fn func(h *features.History) error) error
}

// Scorer scores accounts with the active model of each task, reloading it
// when the registry's active version changes. It is safe for concurrent
// use.
type Scorer struct {
	Registry  Registry
	Reference Reference // nil leaves typical values unknown
	Features  features.Config
	Bands     Bands
	// PQLThreshold overrides the model's PQL threshold when positive.
	PQLThreshold float64
	// CheckEvery is how often the registry is asked whether the active
	// version changed; zero means every 10 seconds.
	CheckEvery time.Duration

	mu     sync.Mutex
	loaded map[string]*Model
}

// Model is an active model ready to score, with what the scorer derived
// from it.
type Model struct {
	Task     string
	Version  int64
	Artifact *models.Artifact
	// Horizon states what the probability is about, and HorizonDays is the
	// length of a churn model's label window, which the health score
	// annualises.
	Horizon     string
	HorizonDays float64
	// Features configures the builder of the vectors the model scores: the
	// trainer's configuration when the registry holds it.
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

	checked time.Time
}

// Model returns the active model of task, loading it on first use and
// again whenever the registry's active version has changed.
func (s *Scorer) Model(ctx context.Context, task string) (*Model, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	every := s.CheckEvery
	if every == 0 {
		every = 10 * time.Second
	}
	cur := s.loaded[task]
	if cur != nil && time.Since(cur.checked) < every {
		return cur, nil
	}
	list, err := s.Registry.Models(ctx, task)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(m store.Model) bool { return m.State == store.ModelActive })
	if i < 0 {
		return nil, fmt.Errorf("task %s: %w", task, store.ErrModelNotFound)
	}
	if cur != nil && cur.Version == list[i].Version {
		cur.checked = time.Now()
		return cur, nil
	}
	m, err := s.load(ctx, task)
	if err != nil {
		return nil, err
	}
	if s.loaded == nil {
		s.loaded = map[string]*Model{}
	}
	s.loaded[task] = m
	return m, nil
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
	var details modelDetails
	json.Unmarshal(sm.Details, &details) // optional: the trainer's document; missing parts keep defaults
	cfg := s.Features
	if details.Features != nil {
		cfg = *details.Features // build vectors exactly as training did
	}
	catalog, err := cfg.Catalog()
	if err != nil {
		return nil, fmt.Errorf("model %d: %w", sm.Version, err)
	}
	m := &Model{Task: task, Version: sm.Version, Artifact: a, Features: cfg, catalog: catalog, checked: time.Now(),
		Horizon: details.horizon(task), HorizonDays: details.horizonDays()}
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
	probs, err := m.reference(ctx, s.Reference, cfg, asOf)
	if err != nil {
		return nil, err
	}
	if task == TaskConversion {
		m.setPQL(details, probs, s.PQLThreshold)
	}
	return m, nil
}

// modelDetails is the part of the trainer's details document (churnctl
// train --task) that scoring uses.
type modelDetails struct {
	Task     map[string]string `json:"task"`
	Features *features.Config  `json:"features"`
	Result   struct {
		Curves struct {
			// Scores counts test rows in 20 equal-width probability bins,
			// negatives then positives.
			Scores [2][20]int `json:"scores"`
		} `json:"curves"`
	} `json:"result"`
}

// horizon states the event a task's probability is about, with the lead
// and horizon the trainer recorded, else the design's defaults (7 and 30
// days).
func (d modelDetails) horizon(task string) string {
	if task == TaskConversion {
		return "converts to paid by the end of the trial plus grace"
	}
	return fmt.Sprintf("churns within the %g days that follow a lead of %g days after the as-of date",
		d.days("horizon", 30), d.days("lead", 7))
}

// horizonDays returns the length of the churn label window the trainer
// recorded, else the design's default of 30 days.
func (d modelDetails) horizonDays() float64 { return d.days("horizon", 30) }

// days reads a span the trainer recorded as "30d" or "30", or returns def
// when it is missing or not a positive number of days.
func (d modelDetails) days(key string, def float64) float64 {
	v, err := strconv.ParseFloat(strings.TrimSuffix(d.Task[key], "d"), 64)
	if err != nil || !(v > 0) {
		return def
	}
	return v
}

// referenceAccounts bounds the accounts read for typical values.
const referenceAccounts = 600

// errSampled stops the reference sweep once it has enough accounts.
var errSampled = errors.New("reference sample complete")

// reference sets m.Typical to the medians of the model's features over
// the eligible accounts among the first referenceAccounts ids, as of
// asOf, and returns their probabilities. The sample is the same in every
// run and shard, so stored reasons do not depend on how a batch is split.
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
	)
	read := 0
	err = ref.Histories(ctx, store.Shard{}, func(h *features.History) error {
		if read++; read > referenceAccounts {
			return errSampled
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
	})
	if err != nil && !errors.Is(err, errSampled) {
		return nil, fmt.Errorf("reading reference accounts: %w", err)
	}
	for i, c := range cols {
		if len(c) > 0 {
			sort.Float64s(c)
			m.Typical[i] = c[len(c)/2]
		}
	}
	return probs, nil
}

// pqlCapture is the share of conversions the default PQL threshold must
// capture.
const pqlCapture = 0.6

// setPQL sets the PQL threshold: the configured one when positive; else
// the one the model's test set supports: the lower edge of the top
// probability bins (of the trainer's 20-bin test histogram) that together
// hold at least 60% of the test conversions; else, for a model registered
// without that histogram, the smallest top share of the reference trials
// whose expected conversions (their summed calibrated probabilities) reach
// 60%. PQLSource says which.
func (m *Model) setPQL(d modelDetails, probs []float64, configured float64) {
	hist := d.Result.Curves.Scores
	if t, share, ok := histogramCapture(hist[0], hist[1], pqlCapture); ok {
		m.PQLThreshold, m.PQLShare, m.PQLSource = t, share, "model test set (20-bin score histogram)"
	} else {
		m.PQLThreshold, m.PQLShare = CaptureThreshold(probs, nil, pqlCapture)
		m.PQLSource = "expected conversions of reference trials (the model stores no test histogram)"
	}
	if configured > 0 {
		m.PQLThreshold, m.PQLSource = configured, "configuration"
	}
}

// histogramCapture walks equal-width probability bins from the top and
// returns the lower edge of the first bin at which the positives counted
// reach capture of all positives, with the share of all rows at or above
// it. ok is false when there are no positives.
func histogramCapture(neg, pos [20]int, capture float64) (threshold, share float64, ok bool) {
	var totalPos, total int
	for k := range pos {
		totalPos += pos[k]
		total += pos[k] + neg[k]
	}
	if totalPos == 0 {
		return 0, 0, false
	}
	var gotPos, got int
	for k := len(pos) - 1; k >= 0; k-- {
		gotPos += pos[k]
		got += pos[k] + neg[k]
		if float64(gotPos) >= capture*float64(totalPos) {
			return float64(k) / float64(len(pos)), float64(got) / float64(total), true
		}
	}
	return 0, 1, true
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

// Detail is the part of a score kept as JSON in its stored row.
type Detail struct {
	Horizon    string               `json:"horizon"`
	Components map[string]Component `json:"components"`
	Reasons    []Reason             `json:"reasons"`
	// PQLThreshold is the threshold the PQL flag was set with.
	PQLThreshold float64 `json:"pql_threshold,omitempty"`
}

// Component is one group's part in a score.
type Component struct {
	// Score is 0–100, 50 when the group moves nothing (see ComponentScore).
	Score float64 `json:"score"`
	// Contribution is the group's summed contribution, in log-odds.
	Contribution float64 `json:"contribution"`
}

// Reason is one feature's part in a score.
type Reason struct {
	Feature string `json:"feature"`
	Group   string `json:"group"`
	// Value and Typical are nil when missing; Category names the value of
	// a categorical feature.
	Value        *float64 `json:"value"`
	Category     string   `json:"category,omitempty"`
	Typical      *float64 `json:"typical"`
	Contribution float64  `json:"contribution"`
	Text         string   `json:"text"`
}

// reasonCount is how many reasons a score keeps.
const reasonCount = 5

// Score scores the vector v of an account whose accounts row is account
// (nil if unknown), returning the row to store. Previous is left NaN.
func (m *Model) Score(v *features.Vector, account *features.Account, bands Bands) (store.Score, error) {
	if !eligible(m.Task, v) {
		return store.Score{}, fmt.Errorf("%s as of %s: %w", v.AccountID, v.AsOf.Format(time.DateOnly), ErrNotEligible)
	}
	return m.score(v, account, bands)
}

// score is Score without the eligibility check.
func (m *Model) score(v *features.Vector, account *features.Account, bands Bands) (store.Score, error) {
	row := make([]float64, len(m.index))
	m.row(v, row)
	raw, _, contrib, err := m.Artifact.Explain(row)
	if err != nil {
		return store.Score{}, fmt.Errorf("scoring %s with model %d: %w", v.AccountID, m.Version, err)
	}
	p := m.Artifact.Probability(raw)
	schema := m.Artifact.Schema()
	d := Detail{Horizon: m.Horizon, Components: map[string]Component{}}
	churn := m.Task == TaskChurn
	for _, g := range models.SumByGroup(schema, contrib) {
		d.Components[g.Group] = Component{Score: ComponentScore(g.Value, !churn), Contribution: g.Value}
	}
	for _, fc := range models.TopContributions(schema, contrib, reasonCount) {
		i := slices.IndexFunc(schema, func(f models.Feature) bool { return f.Name == fc.Feature })
		d.Reasons = append(d.Reasons, m.reason(i, row[i], fc.Value))
	}
	sc := store.Score{AccountID: v.AccountID, Task: m.Task, AsOf: v.AsOf, ModelVersion: fmt.Sprint(m.Version),
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
	} else {
		sc.Health = 100 * p
		sc.PQL = p >= m.PQLThreshold
		d.PQLThreshold = m.PQLThreshold
	}
	if sc.Detail, err = json.Marshal(d); err != nil {
		return store.Score{}, err
	}
	return sc, nil
}

// reason describes feature i of the model with value x and contribution c.
func (m *Model) reason(i int, x, c float64) Reason {
	f := m.catalog[m.index[i]]
	r := Reason{Feature: f.Name, Group: string(f.Group), Value: num(x), Typical: num(m.Typical[i]), Contribution: c}
	value := formatValue(f, x)
	if f.Kind == models.Categorical {
		// A median of category codes means nothing.
		r.Typical = nil
		if !math.IsNaN(x) {
			r.Category = value
		}
	}
	effect := "raises"
	if c < 0 {
		effect = "lowers"
	}
	event := "churn risk"
	if m.Task == TaskConversion {
		event = "the chance to convert"
	}
	r.Text = fmt.Sprintf("%s: %s", f.Description, value)
	if !math.IsNaN(m.Typical[i]) && f.Kind != models.Categorical {
		r.Text += fmt.Sprintf(" (typical %s)", formatValue(f, m.Typical[i]))
	}
	r.Text += fmt.Sprintf("; %s %s", effect, event)
	return r
}

// formatValue writes a feature value for a sentence.
func formatValue(f features.Feature, x float64) string {
	switch {
	case math.IsNaN(x):
		if f.Missing != "" {
			return "unknown (" + f.Missing + ")"
		}
		return "unknown"
	case f.Kind == models.Categorical:
		if k := int(x); k >= 0 && k < len(f.Categories) {
			return f.Categories[k]
		}
		return fmt.Sprint(x)
	case x == math.Trunc(x) && math.Abs(x) < 1e15:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2f", x)
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
func (s *Scorer) ScoreHistory(ctx context.Context, task string, h *features.History, asOf time.Time) (store.Score, error) {
	m, err := s.Model(ctx, task)
	if err != nil {
		return store.Score{}, err
	}
	b, err := features.NewBuilder(m.Features)
	if err != nil {
		return store.Score{}, err
	}
	vs, err := b.Build(h, []time.Time{asOf}, nil)
	if err != nil {
		return store.Score{}, fmt.Errorf("building features of %s: %w", h.AccountID, err)
	}
	return m.Score(&vs[0], h.Account, s.Bands)
}

// ScoreValues scores a raw feature vector given by name, for callers that
// compute features themselves. Features the model uses but values omits
// are missing (NaN); names the catalog does not have are an error. The
// account is assumed eligible, and ARR is not known.
func (s *Scorer) ScoreValues(ctx context.Context, task, id string, values map[string]float64) (store.Score, error) {
	m, err := s.Model(ctx, task)
	if err != nil {
		return store.Score{}, err
	}
	v := &features.Vector{AccountID: id, Version: features.CatalogVersion, Values: make([]float64, len(m.catalog))}
	for i := range v.Values {
		v.Values[i] = math.NaN()
	}
	for name, x := range values {
		j := features.IndexOf(m.catalog, name)
		if j < 0 {
			return store.Score{}, fmt.Errorf("%w: %q", ErrUnknownFeature, name)
		}
		v.Values[j] = x
	}
	return m.score(v, nil, s.Bands)
}

// ErrUnknownFeature is returned for a feature name the catalog does not
// have.
var ErrUnknownFeature = errors.New("unknown feature")
