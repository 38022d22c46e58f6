package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ArtifactFormat is the version of the artifact encoding written by
// EncodeArtifact. DecodeArtifact refuses other versions.
const ArtifactFormat = 1

// Algorithm names stored in artifacts.
const (
	AlgorithmLogReg = "logreg"
	AlgorithmGBDT   = "gbdt"
	// AlgorithmGBDTBag is a Bag of GBDT models; its params are those of
	// the members, which differ only in Seed.
	AlgorithmGBDTBag = "gbdt-bag"
)

// Metadata is free-form information about how an artifact was produced.
// None of it affects predictions.
type Metadata struct {
	// Task names what is predicted, for example "churn" or "conversion".
	Task string `json:"task,omitempty"`
	// Label and Positive name the label column and its positive value.
	Label    string `json:"label,omitempty"`
	Positive string `json:"positive,omitempty"`
	// IDColumn names the column that identified rows in training, so that
	// scoring can carry it through to its output.
	IDColumn string `json:"id_column,omitempty"`
	// TrainedAt is when the model was fitted; WindowStart and WindowEnd
	// bound the observation dates of its training data, when known.
	TrainedAt   time.Time `json:"trained_at,omitzero"`
	WindowStart time.Time `json:"window_start,omitzero"`
	WindowEnd   time.Time `json:"window_end,omitzero"`
	// Rows is the number of training rows.
	Rows int `json:"rows,omitempty"`
	// Metrics holds validation metrics by name, e.g. "auc" or "log_loss".
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Extra holds anything else worth keeping.
	Extra map[string]string `json:"extra,omitempty"`
}

// Artifact is a fitted model with everything needed to use and audit it:
// the algorithm, its parameters, the calibration and metadata. The feature
// schema is the model's.
//
// An Artifact predicts only on vectors that match its schema: Predict and
// its variants return an error, never a silent misprediction, for a vector
// of the wrong width, an invalid category code or mismatched feature names.
type Artifact struct {
	// Algorithm names the learner; it selects how Model is decoded.
	Algorithm string
	Model     Model
	// Params holds the parameters the model was fitted with: a
	// LogRegParams or GBDTParams value for the matching algorithm, or nil.
	Params any
	// Calibration maps raw scores to probabilities. Nil means the raw
	// score is read as log-odds.
	Calibration *Calibrator
	Metadata    Metadata
}

// envelope is the outer JSON object of an encoded artifact. SHA256 is the
// hex SHA-256 of the canonical (compact) JSON encoding of Body.
type envelope struct {
	Format int             `json:"format"`
	SHA256 string          `json:"sha256"`
	Body   json.RawMessage `json:"body"`
}

type artifactBody struct {
	Algorithm   string          `json:"algorithm"`
	Schema      Schema          `json:"schema"`
	Params      json.RawMessage `json:"params,omitempty"`
	Model       json.RawMessage `json:"model"`
	Calibration *Calibrator     `json:"calibration,omitempty"`
	Metadata    Metadata        `json:"metadata"`
}

// decoders turns an algorithm's model and params JSON back into values.
var decoders = map[string]func(model, params json.RawMessage) (Model, any, error){
	AlgorithmLogReg:  decodeAs[LogReg, *LogReg, LogRegParams],
	AlgorithmGBDT:    decodeAs[GBDT, *GBDT, GBDTParams],
	AlgorithmGBDTBag: decodeAs[Bag[*GBDT], *Bag[*GBDT], GBDTParams],
	AlgorithmBlend:   decodeAs[Blend, *Blend, BlendParams],
}

func decodeAs[T any, PT interface {
	*T
	Model
}, P any](model, params json.RawMessage) (Model, any, error) {
	var p any
	if len(params) > 0 && !bytes.Equal(params, []byte("null")) {
		var v P
		if err := json.Unmarshal(params, &v); err != nil {
			return nil, nil, fmt.Errorf("params: %w", err)
		}
		p = v
	}
	m := PT(new(T))
	if err := json.Unmarshal(model, m); err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	return m, p, nil
}

// EncodeArtifact writes a as versioned JSON with a SHA-256 checksum of its
// body. Floats are written in the shortest form that reads back to the
// same float64, so a decoded artifact predicts bit for bit as a did.
func EncodeArtifact(w io.Writer, a *Artifact) error {
	if _, ok := decoders[a.Algorithm]; !ok {
		return fmt.Errorf("models: encoding artifact: unknown algorithm %q", a.Algorithm)
	}
	if a.Model == nil {
		return errors.New("models: encoding artifact: no model")
	}
	if err := checkArtifactParts(a.Model.Schema(), a.Model, a.Calibration); err != nil {
		return fmt.Errorf("models: encoding artifact: %w", err)
	}
	model, err := json.Marshal(a.Model)
	if err != nil {
		return fmt.Errorf("models: encoding artifact model: %w", err)
	}
	var params json.RawMessage
	if a.Params != nil {
		if params, err = json.Marshal(a.Params); err != nil {
			return fmt.Errorf("models: encoding artifact params: %w", err)
		}
	}
	body, err := json.Marshal(artifactBody{
		Algorithm: a.Algorithm, Schema: a.Model.Schema(), Params: params, Model: model,
		Calibration: a.Calibration, Metadata: a.Metadata,
	})
	if err != nil {
		return fmt.Errorf("models: encoding artifact: %w", err)
	}
	sum := sha256.Sum256(body)
	out, err := json.Marshal(envelope{Format: ArtifactFormat, SHA256: hex.EncodeToString(sum[:]), Body: body})
	if err != nil {
		return fmt.Errorf("models: encoding artifact: %w", err)
	}
	if _, err := w.Write(append(out, '\n')); err != nil {
		return fmt.Errorf("models: writing artifact: %w", err)
	}
	return nil
}

// DecodeArtifact reads an artifact written by EncodeArtifact. It refuses
// an unknown format version, a body whose checksum does not match (the
// body may be re-indented, but any other change is refused), an unknown
// algorithm, a malformed model or calibrator, and a stored schema that
// differs from the model's.
func DecodeArtifact(r io.Reader) (*Artifact, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("models: reading artifact: %w", err)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("models: decoding artifact: %w", err)
	}
	if env.Format != ArtifactFormat {
		return nil, fmt.Errorf("models: artifact format %d is not supported (want %d)", env.Format, ArtifactFormat)
	}
	var canonical bytes.Buffer
	if err := json.Compact(&canonical, env.Body); err != nil {
		return nil, fmt.Errorf("models: decoding artifact body: %w", err)
	}
	sum := sha256.Sum256(canonical.Bytes())
	if got := hex.EncodeToString(sum[:]); got != env.SHA256 {
		return nil, fmt.Errorf("models: artifact checksum mismatch: body hashes to %s, header says %q", got, env.SHA256)
	}
	var body artifactBody
	if err := json.Unmarshal(env.Body, &body); err != nil {
		return nil, fmt.Errorf("models: decoding artifact body: %w", err)
	}
	decode, ok := decoders[body.Algorithm]
	if !ok {
		return nil, fmt.Errorf("models: artifact has unknown algorithm %q", body.Algorithm)
	}
	m, params, err := decode(body.Model, body.Params)
	if err != nil {
		return nil, fmt.Errorf("models: decoding %s artifact: %w", body.Algorithm, err)
	}
	if err := checkArtifactParts(body.Schema, m, body.Calibration); err != nil {
		return nil, fmt.Errorf("models: decoding %s artifact: %w", body.Algorithm, err)
	}
	return &Artifact{Algorithm: body.Algorithm, Model: m, Params: params, Calibration: body.Calibration, Metadata: body.Metadata}, nil
}

// checkArtifactParts checks that schema is well formed and is the model's,
// and that the model and calibrator pass their own validation.
func checkArtifactParts(schema Schema, m Model, c *Calibrator) error {
	if err := validateSchema(schema); err != nil {
		return err
	}
	ms := m.Schema()
	if !schema.Equal(ms) {
		return errors.New("stored schema differs from the model's")
	}
	for j := range schema {
		if schema[j].Group != ms[j].Group {
			return fmt.Errorf("feature %q: stored group %q differs from the model's %q", schema[j].Name, schema[j].Group, ms[j].Group)
		}
	}
	if v, ok := m.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	if c != nil {
		return c.Validate()
	}
	return nil
}

// validateSchema checks that feature names are non-empty and unique, kinds
// are known, and categorical features have unique categories.
func validateSchema(s Schema) error {
	seen := make(map[string]bool, len(s))
	for _, f := range s {
		if f.Name == "" || seen[f.Name] {
			return fmt.Errorf("schema: feature name %q is empty or repeated", f.Name)
		}
		seen[f.Name] = true
		switch f.Kind {
		case Numeric:
			if len(f.Categories) > 0 {
				return fmt.Errorf("schema: numeric feature %q has categories", f.Name)
			}
		case Categorical:
			cats := make(map[string]bool, len(f.Categories))
			for _, c := range f.Categories {
				if cats[c] {
					return fmt.Errorf("schema: feature %q repeats category %q", f.Name, c)
				}
				cats[c] = true
			}
		default:
			return fmt.Errorf("schema: feature %q has unknown kind %v", f.Name, f.Kind)
		}
	}
	return nil
}

// Schema returns the features the artifact's model expects, in order.
func (a *Artifact) Schema() Schema { return a.Model.Schema() }

// Probability maps a raw score through the artifact's calibration.
func (a *Artifact) Probability(raw float64) float64 {
	if a.Calibration == nil {
		return Logistic(raw)
	}
	return a.Calibration.Probability(raw)
}

// Predict returns the calibrated probability for row. It returns an error
// if row does not have one value per feature or holds an invalid category
// code.
func (a *Artifact) Predict(row []float64) (float64, error) {
	if err := a.Schema().CheckRow(row); err != nil {
		return 0, err
	}
	return a.Probability(a.Model.Raw(row)), nil
}

// CheckNames returns an error unless names are exactly the artifact's
// feature names, in order.
func (a *Artifact) CheckNames(names []string) error {
	s := a.Schema()
	if len(names) != len(s) {
		return fmt.Errorf("models: %d feature names given, model has %d features", len(names), len(s))
	}
	for j, f := range s {
		if names[j] != f.Name {
			return fmt.Errorf("models: feature %d is %q, model expects %q", j, names[j], f.Name)
		}
	}
	return nil
}

// PredictNamed is Predict for a row whose feature names are given: it
// returns an error unless names are exactly the schema's, in order.
func (a *Artifact) PredictNamed(names []string, row []float64) (float64, error) {
	if err := a.CheckNames(names); err != nil {
		return 0, err
	}
	return a.Predict(row)
}

// Explain returns the raw score of row, the model's expected value and
// each feature's contribution; the contributions add up to raw minus the
// expected value. Like Predict, it refuses a row that does not match.
func (a *Artifact) Explain(row []float64) (raw, base float64, contributions []float64, err error) {
	if err := a.Schema().CheckRow(row); err != nil {
		return 0, 0, nil, err
	}
	return a.Model.Raw(row), a.Model.ExpectedValue(), a.Model.Contributions(row, nil), nil
}

// PredictDataset writes the calibrated probability of every row of d into
// dst, allocating it when nil, and returns it. It returns an error unless
// d has the artifact's schema and valid category codes.
func (a *Artifact) PredictDataset(d *Dataset, dst []float64) ([]float64, error) {
	if !d.Schema.Equal(a.Schema()) {
		return nil, errors.New("models: dataset schema differs from the model's")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	n := d.Rows()
	if dst == nil {
		dst = make([]float64, n)
	}
	if m, ok := a.Model.(interface {
		PredictRaw(*Dataset, []float64) []float64
	}); ok {
		m.PredictRaw(d, dst)
	} else {
		row := make([]float64, len(d.Columns))
		for i := range n {
			dst[i] = a.Model.Raw(d.Row(i, row))
		}
	}
	for i, raw := range dst[:n] {
		dst[i] = a.Probability(raw)
	}
	return dst, nil
}
