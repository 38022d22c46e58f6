package trainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// ModelState is where a registered model is in its life.
type ModelState string

// The states of a registered model. A model starts as a candidate; at most
// one model per task is active, the one scoring uses; a model that was
// displaced or withdrawn is retired, and can be activated again to roll
// back to it.
const (
	ModelCandidate ModelState = "candidate"
	ModelActive    ModelState = "active"
	ModelRetired   ModelState = "retired"
)

// Activation says whether registering a model makes it active.
type Activation string

// The activation policies.
const (
	// ActivateAuto activates the new model when no model of its task is
	// active, or when its test AUC is not below the active model's.
	ActivateAuto Activation = "auto"
	// ActivateAlways activates the new model regardless of its AUC.
	ActivateAlways Activation = "always"
	// ActivateNever registers the new model as a candidate.
	ActivateNever Activation = "never"
)

// ParseActivation returns the Activation named s.
func ParseActivation(s string) (Activation, error) {
	switch a := Activation(s); a {
	case ActivateAuto, ActivateAlways, ActivateNever:
		return a, nil
	}
	return "", fmt.Errorf("unknown activation policy %q (want auto, always or never)", s)
}

// Errors of a model registry.
var (
	// ErrModelNotFound is returned for a version or task without a model.
	ErrModelNotFound = errors.New("model not found")
	// ErrChecksum is returned when a stored artifact no longer matches the
	// checksum recorded when it was registered.
	ErrChecksum = errors.New("artifact checksum mismatch")
	// ErrActiveModel is returned when retiring the active model: roll back
	// by activating another version instead, so that the task is never
	// left without a model.
	ErrActiveModel = errors.New("model is active")
)

// RegisteredModel is a model in a registry: its identity, life-cycle
// state, training window, record and, when loaded one at a time, its
// artifact.
type RegisteredModel struct {
	// Version numbers models across tasks, from 1, in registration order.
	Version   int64      `json:"version"`
	Task      string     `json:"task"`
	Algorithm string     `json:"algorithm"`
	State     ModelState `json:"state"`
	// CreatedAt is when the model was registered and StateAt when its state
	// last changed.
	CreatedAt time.Time `json:"created_at"`
	StateAt   time.Time `json:"state_at"`
	// WindowStart and WindowEnd bound the observation dates of the data
	// the model was trained and evaluated on.
	WindowStart time.Time `json:"window_start,omitzero"`
	WindowEnd   time.Time `json:"window_end,omitzero"`
	// TestAUC is the ROC AUC on the out-of-time test rows, NaN if unknown;
	// ActivateAuto compares it.
	TestAUC float64 `json:"test_auc"`
	// Record is what training recorded of the model.
	Record Record `json:"record"`
	// Backtest is the backtest document churnctl backtest attached, if
	// any.
	Backtest *BacktestResult `json:"backtest,omitempty"`
	// Artifact is the encoded artifact, nil in listings, and Checksum the
	// hex SHA-256 of it.
	Artifact []byte `json:"-"`
	Checksum string `json:"checksum"`
}

// MarshalJSON writes an unknown TestAUC as null, which JSON can hold and
// NaN cannot.
func (m RegisteredModel) MarshalJSON() ([]byte, error) {
	type plain RegisteredModel
	v := struct {
		plain
		TestAUC *float64 `json:"test_auc"`
	}{plain: plain(m)}
	if !math.IsNaN(m.TestAUC) {
		v.TestAUC = &m.TestAUC
	}
	return json.Marshal(v)
}
