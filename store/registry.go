package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
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

// Activation says whether RegisterModel makes the new model active.
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

// Errors of the registry.
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

// Model is a registered model: its identity, life-cycle state, training
// window, metrics and, when loaded with Model or ActiveModel, its
// artifact. Metrics, Details and Backtest are JSON documents written by the
// trainer; the store keeps them as they are.
type Model struct {
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
	TestAUC  float64         `json:"test_auc"`
	Metrics  json.RawMessage `json:"metrics,omitempty"`
	Details  json.RawMessage `json:"details,omitempty"`
	Backtest json.RawMessage `json:"backtest,omitempty"`
	// Artifact is the encoded artifact, nil in listings, and Checksum the
	// hex SHA-256 of it.
	Artifact []byte `json:"-"`
	Checksum string `json:"checksum"`
}

// MarshalJSON writes an unknown TestAUC as null, which JSON can hold and
// NaN cannot.
func (m Model) MarshalJSON() ([]byte, error) {
	type plain Model
	v := struct {
		plain
		TestAUC *float64 `json:"test_auc"`
	}{plain: plain(m)}
	if !math.IsNaN(m.TestAUC) {
		v.TestAUC = &m.TestAUC
	}
	return json.Marshal(v)
}

// registryLock is the pg_advisory_xact_lock key that serialises registry
// changes on PostgreSQL; on SQLite the single writer connection does.
const registryLock = 7_240_411_020

// modelColumns are the columns a listing reads, in scanModel's order.
const modelColumns = "version, task, algorithm, state, created_at, state_at, window_start, window_end, test_auc, metrics, details, backtest, checksum"

// RegisterModel stores m as a new version of its task and returns the
// model that was active for the task before, or nil. It fills in m's
// Version, State, CreatedAt, StateAt and Checksum. With ActivateAuto the
// new model becomes active when no model is, or when its TestAUC is at
// least the active model's; a NaN TestAUC never wins. Registering and
// activating happen in one transaction, serialised against every other
// registry change, so concurrent registrations never leave two models
// active.
func (s *Store) RegisterModel(ctx context.Context, m *Model, act Activation) (prev *Model, err error) {
	if _, err := ParseActivation(string(act)); err != nil {
		return nil, fmt.Errorf("registering model: %w", err)
	}
	if m.Task == "" || m.Algorithm == "" || len(m.Artifact) == 0 {
		return nil, errors.New("registering model: task, algorithm and artifact are required")
	}
	err = s.registryTx(ctx, func(tx *sqlx.Tx) error {
		prev, err = s.activeModel(ctx, tx, m.Task)
		if err != nil && !errors.Is(err, ErrModelNotFound) {
			return err
		}
		if err := tx.GetContext(ctx, &m.Version, "SELECT COALESCE(MAX(version), 0) + 1 FROM models"); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		m.CreatedAt, m.StateAt, m.State = now, now, ModelCandidate
		m.Checksum = checksum(m.Artifact)
		activate := act == ActivateAlways ||
			act == ActivateAuto && (prev == nil || m.TestAUC >= prev.TestAUC || math.IsNaN(prev.TestAUC) && !math.IsNaN(m.TestAUC))
		if activate && prev != nil {
			if err := s.setState(ctx, tx, prev.Version, ModelRetired, now); err != nil {
				return err
			}
		}
		if activate {
			m.State = ModelActive
		}
		var auc any
		if !math.IsNaN(m.TestAUC) {
			auc = m.TestAUC
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO models (version, task, algorithm, state, created_at, state_at,
			window_start, window_end, test_auc, metrics, details, backtest, artifact, checksum)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			m.Version, m.Task, m.Algorithm, m.State, s.dialect.timeArg(now), s.dialect.timeArg(now),
			s.dialect.timeArg(m.WindowStart), s.dialect.timeArg(m.WindowEnd), auc,
			jsonText(m.Metrics, "{}"), jsonText(m.Details, "{}"), jsonText(m.Backtest, ""), string(m.Artifact), m.Checksum)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registering %s model: %w", m.Task, err)
	}
	return prev, nil
}

// Models lists the registered models of task, or of every task when task
// is empty, by version, without their artifacts.
func (s *Store) Models(ctx context.Context, task string) ([]Model, error) {
	q, args := "SELECT "+modelColumns+" FROM models", []any{}
	if task != "" {
		q, args = q+s.r.Rebind(" WHERE task = ?"), append(args, task)
	}
	rows, err := s.r.QueryContext(ctx, q+" ORDER BY version", args...)
	if err != nil {
		return nil, fmt.Errorf("listing models: %w", err)
	}
	defer rows.Close()
	var ms []Model
	for rows.Next() {
		var m Model
		if err := scanModel(rows, &m); err != nil {
			return nil, fmt.Errorf("listing models: %w", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing models: %w", err)
	}
	return ms, nil
}

// Model returns the model of the given version with its artifact. It
// returns an error wrapping ErrChecksum, and no model, when the artifact
// does not match the checksum recorded at registration.
func (s *Store) Model(ctx context.Context, version int64) (*Model, error) {
	m, err := s.loadModel(ctx, s.r, "version = ?", version)
	if err != nil {
		return nil, fmt.Errorf("loading model %d: %w", version, err)
	}
	return m, nil
}

// ActiveModel returns the active model of task with its artifact, checked
// as Model checks it, or an error wrapping ErrModelNotFound.
func (s *Store) ActiveModel(ctx context.Context, task string) (*Model, error) {
	m, err := s.activeModel(ctx, s.r, task)
	if err != nil {
		return nil, fmt.Errorf("loading active %s model: %w", task, err)
	}
	return m, nil
}

func (s *Store) activeModel(ctx context.Context, q sqlx.QueryerContext, task string) (*Model, error) {
	return s.loadModel(ctx, q, "task = ? AND state = 'active'", task)
}

// loadModel reads the one model matching where and verifies its artifact.
func (s *Store) loadModel(ctx context.Context, q sqlx.QueryerContext, where string, arg any) (*Model, error) {
	var m Model
	var artifact string
	row := q.QueryRowxContext(ctx, s.w.Rebind("SELECT "+modelColumns+", artifact FROM models WHERE "+where), arg)
	if err := scanModel(row, &m, &artifact); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrModelNotFound
		}
		return nil, err
	}
	m.Artifact = []byte(artifact)
	if got := checksum(m.Artifact); got != m.Checksum {
		return nil, fmt.Errorf("%w: version %d recorded %s, artifact hashes to %s", ErrChecksum, m.Version, m.Checksum, got)
	}
	return &m, nil
}

// ActivateModel makes the given version the active model of its task and
// retires the one it displaces, which it returns (nil if none). Activating
// a retired model is how a bad model is rolled back. The artifact is
// verified first: a model whose artifact fails its checksum is refused.
func (s *Store) ActivateModel(ctx context.Context, version int64) (prev *Model, err error) {
	err = s.registryTx(ctx, func(tx *sqlx.Tx) error {
		m, err := s.loadModel(ctx, tx, "version = ?", version)
		if err != nil {
			return err
		}
		if m.State == ModelActive {
			return nil
		}
		prev, err = s.activeModel(ctx, tx, m.Task)
		if err != nil && !errors.Is(err, ErrModelNotFound) {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		// The partial unique index allows one active model per task, so the
		// displaced model is retired before the new one is activated.
		if prev != nil {
			if err := s.setState(ctx, tx, prev.Version, ModelRetired, now); err != nil {
				return err
			}
		}
		return s.setState(ctx, tx, version, ModelActive, now)
	})
	if err != nil {
		return nil, fmt.Errorf("activating model %d: %w", version, err)
	}
	return prev, nil
}

// RetireModel retires the given version. It refuses the active model
// (ErrActiveModel): activate another version to replace it.
func (s *Store) RetireModel(ctx context.Context, version int64) error {
	err := s.registryTx(ctx, func(tx *sqlx.Tx) error {
		var state ModelState
		if err := tx.GetContext(ctx, &state, tx.Rebind("SELECT state FROM models WHERE version = ?"), version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrModelNotFound
			}
			return err
		}
		switch state {
		case ModelActive:
			return ErrActiveModel
		case ModelRetired:
			return nil
		}
		return s.setState(ctx, tx, version, ModelRetired, time.Now().UTC().Truncate(time.Microsecond))
	})
	if err != nil {
		return fmt.Errorf("retiring model %d: %w", version, err)
	}
	return nil
}

// SetModelBacktest records a backtest document with the given version,
// replacing any earlier one.
func (s *Store) SetModelBacktest(ctx context.Context, version int64, backtest json.RawMessage) error {
	res, err := s.w.ExecContext(ctx, s.w.Rebind("UPDATE models SET backtest = ? WHERE version = ?"), string(backtest), version)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrModelNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("recording backtest of model %d: %w", version, err)
	}
	return nil
}

func (s *Store) setState(ctx context.Context, tx *sqlx.Tx, version int64, state ModelState, at time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE models SET state = ?, state_at = ? WHERE version = ?"), state, s.dialect.timeArg(at), version)
	if err != nil {
		return fmt.Errorf("setting model %d %s: %w", version, state, err)
	}
	return nil
}

// registryTx runs fn in a write transaction that holds the registry lock.
func (s *Store) registryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if s.dialect.name() == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", registryLock); err != nil {
			return fmt.Errorf("locking the registry: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

type scanner interface{ Scan(dest ...any) error }

// scanModel scans modelColumns, then extra, into m.
func scanModel(row scanner, m *Model, extra ...any) error {
	var auc sql.NullFloat64
	var metrics, details, backtest string
	dest := append([]any{&m.Version, &m.Task, &m.Algorithm, &m.State, dbTime{&m.CreatedAt}, dbTime{&m.StateAt},
		dbTime{&m.WindowStart}, dbTime{&m.WindowEnd}, &auc, &metrics, &details, &backtest, &m.Checksum}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	m.TestAUC = math.NaN()
	if auc.Valid {
		m.TestAUC = auc.Float64
	}
	m.Metrics, m.Details = json.RawMessage(metrics), json.RawMessage(details)
	if strings.TrimSpace(backtest) != "" {
		m.Backtest = json.RawMessage(backtest)
	}
	return nil
}

// jsonText returns doc as text, or empty when doc is empty.
func jsonText(doc json.RawMessage, empty string) string {
	if len(doc) == 0 {
		return empty
	}
	return string(doc)
}

// checksum returns the hex SHA-256 of b.
func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
