package trainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/dataset"
)

// RecordVersion is the layout version of the Record that EncodeRecord
// writes. DecodeRecord reads this version and the unversioned documents
// that earlier releases stored (see DecodeRecord).
const RecordVersion = 2

// The tasks a Record can describe.
const (
	TaskChurn      = "churn"
	TaskConversion = "conversion"
)

// Record is the model record: everything serving needs to know about a
// trained model besides its artifact. Training owns it; EncodeRecord is
// the one function that writes it and DecodeRecord the one that reads it.
type Record struct {
	// Version is RecordVersion when written.
	Version int    `json:"record_version"`
	Task    string `json:"task"`
	// From and To bound the observation dates, and Every is the step of
	// a churn model's calendar observations.
	From  time.Time    `json:"from,omitzero"`
	To    time.Time    `json:"to,omitzero"`
	Every dataset.Span `json:"every,omitzero"`
	// Renewals says a churn model observed each paying account Lead
	// before each of its renewals rather than on a calendar.
	Renewals bool `json:"renewals,omitempty"`
	// Lead and Horizon define a churn model's label window: a churn in
	// [as-of + Lead, as-of + Lead + Horizon) is a positive. A zero Horizon
	// of a renewal model means up to the next renewal.
	Lead    dataset.Duration `json:"lead,omitempty"`
	Horizon dataset.Duration `json:"horizon,omitempty"`
	// Grace is how long a return undoes a churn, or how long after the
	// trial a conversion still counts.
	Grace dataset.Duration `json:"grace"`
	// TrialDay is the trial day a conversion model observes trials on.
	TrialDay int `json:"trial_day,omitempty"`
	// DataEnd is when the training data stopped.
	DataEnd time.Time `json:"data_end,omitzero"`
	// Features configures the builder exactly as training did, with the
	// vocabularies fixed at training; Catalog is the catalog it built.
	Features features.Config    `json:"features"`
	Catalog  []features.Feature `json:"catalog"`
	// Result is the training outcome: the chosen learner, the
	// out-of-time evaluation, curves and drivers. Nil for a model
	// registered without one.
	Result *Result `json:"result,omitempty"`
	// PQLThreshold is the conversion probability at or above which a
	// trial is a product-qualified lead, chosen on the test set, and
	// PQLShare the share of test trials it flags; zero when the test set
	// held no conversion.
	PQLThreshold float64 `json:"pql_threshold,omitempty"`
	PQLShare     float64 `json:"pql_share,omitempty"`
}

// renewalTermDays is the label window a renewal model without a horizon
// is annualised over: a month, the term of most subscriptions.
const renewalTermDays = 30

// HorizonDays is the length of a churn model's label window in days; for
// a renewal model without a horizon, which asks about the next renewal,
// a month.
func (r *Record) HorizonDays() float64 {
	if r.Horizon == 0 && r.Renewals {
		return renewalTermDays
	}
	return r.Horizon.Days()
}

// Outcome states the event a model's probability is about.
func (r *Record) Outcome() string {
	switch {
	case r.Task == TaskConversion:
		return "converts to paid by the end of the trial plus grace"
	case r.Renewals && r.Horizon == 0:
		return fmt.Sprintf("churns at its next renewal, observed %s before it", spell(time.Duration(r.Lead)))
	}
	return fmt.Sprintf("churns within the %s that follow a lead of %s after the as-of date",
		spell(time.Duration(r.Horizon)), spell(time.Duration(r.Lead)))
}

// spell writes d for a sentence: "14 days", "1 day", or "36h0m0s".
func spell(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "1 day"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " days"
	}
	return d.String()
}

// validate checks what serving relies on.
func (r *Record) validate() error {
	switch r.Task {
	case TaskChurn:
		if r.Horizon < 0 || r.Horizon == 0 && !r.Renewals {
			return fmt.Errorf("churn record: horizon %s is not positive", dataset.FormatDuration(time.Duration(r.Horizon)))
		}
		if r.Lead < 0 {
			return fmt.Errorf("churn record: lead %s is negative", dataset.FormatDuration(time.Duration(r.Lead)))
		}
	case TaskConversion:
	default:
		return fmt.Errorf("record: unknown task %q (want churn or conversion)", r.Task)
	}
	if !(r.PQLThreshold >= 0 && r.PQLThreshold <= 1) {
		return fmt.Errorf("record: PQL threshold %v is not a probability", r.PQLThreshold)
	}
	return nil
}

// EncodeRecord writes r as JSON with the current RecordVersion. It
// refuses a record that DecodeRecord would refuse.
func EncodeRecord(r Record) ([]byte, error) {
	r.Version = RecordVersion
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("encoding model record: %w", err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding model record: %w", err)
	}
	return b, nil
}

// DecodeRecord reads a model record strictly: unknown fields, a version
// newer than RecordVersion and values serving cannot use are errors. A
// document without a version is one an earlier release stored, and is
// read by migrateRecord.
func DecodeRecord(data []byte) (Record, error) {
	var probe struct {
		Version *int `json:"record_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return Record{}, fmt.Errorf("decoding model record: %w", err)
	}
	if probe.Version == nil {
		r, err := migrateRecord(data)
		if err != nil {
			return Record{}, fmt.Errorf("decoding model record of an earlier release: %w", err)
		}
		return r, nil
	}
	if *probe.Version != RecordVersion {
		return Record{}, fmt.Errorf("decoding model record: version %d, this release reads %d", *probe.Version, RecordVersion)
	}
	var r Record
	if err := decodeStrict(data, &r); err != nil {
		return Record{}, fmt.Errorf("decoding model record: %w", err)
	}
	if err := r.validate(); err != nil {
		return Record{}, fmt.Errorf("decoding model record: %w", err)
	}
	return r, nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the record")
	}
	return nil
}

// legacyRecord is the unversioned details document of earlier releases,
// in both shapes they wrote: churnctl train stored task spans as "7d" and
// a catalog; the demo stored them as "7" (days) and no catalog. Both
// marshalled features.Config without tags, so its keys are Go field names.
type legacyRecord struct {
	Task     map[string]string `json:"task"`
	Result   *Result           `json:"result"`
	Catalog  []features.Feature
	Features struct {
		CatalogueSize   int
		KeyFeatures     []string
		TrialDays       int
		Plans, Segments []string
		ResponseTargets map[string]time.Duration
	} `json:"features"`
}

// Defaults that earlier releases applied when a document left a span
// out: serving read a missing lead or horizon as 7 and 30 days.
const (
	legacyLead    = 7 * 24 * time.Hour
	legacyHorizon = 30 * 24 * time.Hour
)

// migrateRecord reads an unversioned details document into a Record: the
// one place that knows the old shapes. Its task is not in the document
// for every shape, so it is taken from the result's artifact metadata
// when present, else from the spans the document holds (a conversion
// document has a trial day or no lead).
func migrateRecord(data []byte) (Record, error) {
	var old legacyRecord
	if err := decodeStrict(data, &old); err != nil {
		return Record{}, err
	}
	f := old.Features
	r := Record{Version: RecordVersion, Result: old.Result, Catalog: old.Catalog,
		Features: features.Config{CatalogueSize: f.CatalogueSize, KeyFeatures: f.KeyFeatures, TrialDays: f.TrialDays,
			Plans: f.Plans, Segments: f.Segments, ResponseTargets: f.ResponseTargets}}
	span := func(key string, def time.Duration) (dataset.Duration, error) {
		v, ok := old.Task[key]
		if !ok || v == "" {
			return dataset.Duration(def), nil
		}
		if n, err := strconv.Atoi(v); err == nil { // the demo's whole days
			return dataset.Duration(time.Duration(n) * 24 * time.Hour), nil
		}
		d, err := dataset.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("task %s: %w", key, err)
		}
		return dataset.Duration(d), nil
	}
	date := func(key string) (time.Time, error) {
		v := old.Task[key]
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("task %s: %w", key, err)
		}
		return t, nil
	}
	var err error
	if r.Grace, err = span("grace", 0); err != nil {
		return Record{}, err
	}
	if r.From, err = date("from"); err != nil {
		return Record{}, err
	}
	if r.To, err = date("to"); err != nil {
		return Record{}, err
	}
	if r.DataEnd, err = date("data_end"); err != nil {
		return Record{}, err
	}
	if v := old.Task["every"]; v != "" {
		if r.Every, err = dataset.ParseSpan(v); err != nil {
			return Record{}, fmt.Errorf("task every: %w", err)
		}
	}
	_, hasTrialDay := old.Task["trial_day"]
	_, hasLead := old.Task["lead"]
	switch {
	case hasTrialDay || !hasLead && old.Task["every"] == "":
		r.Task = TaskConversion
		if v := old.Task["trial_day"]; v != "" {
			if r.TrialDay, err = strconv.Atoi(v); err != nil {
				return Record{}, fmt.Errorf("task trial_day %q: %w", v, err)
			}
		}
	default:
		r.Task = TaskChurn
		if r.Lead, err = span("lead", legacyLead); err != nil {
			return Record{}, err
		}
		if r.Horizon, err = span("horizon", legacyHorizon); err != nil {
			return Record{}, err
		}
	}
	if r.Task == TaskConversion && r.Result != nil {
		r.PQLThreshold, r.PQLShare = pqlFromHistogram(r.Result.Curves.Scores)
	}
	if err := r.validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// pqlCapture is the share of the test set's conversions that the PQL
// threshold must capture.
const pqlCapture = 0.6

// pqlFromHistogram returns the PQL threshold that a 20-bin test-score
// histogram supports: the lower edge of the top bins that together hold
// at least pqlCapture of the test conversions, and the share of test
// trials at or above it. Both are zero when the test set held no
// conversion.
func pqlFromHistogram(scores [2][20]int) (threshold, share float64) {
	neg, pos := scores[0], scores[1]
	var totalPos, total int
	for k := range pos {
		totalPos += pos[k]
		total += pos[k] + neg[k]
	}
	if totalPos == 0 {
		return 0, 0
	}
	var gotPos, got int
	for k := len(pos) - 1; k >= 0; k-- {
		gotPos += pos[k]
		got += pos[k] + neg[k]
		if float64(gotPos) >= pqlCapture*float64(totalPos) {
			return float64(k) / float64(len(pos)), float64(got) / float64(total)
		}
	}
	return 0, 1
}

// taskOf returns the task named by s, or an error listing the tasks.
func taskOf(s string) (string, error) {
	switch s = strings.TrimSpace(s); s {
	case TaskChurn, TaskConversion:
		return s, nil
	}
	return "", fmt.Errorf("unknown task %q (want churn or conversion)", s)
}
