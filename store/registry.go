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

	"github.com/openchurn/churn/training/trainer"
)

// registryLock is the pg_advisory_xact_lock key that serialises registry
// changes on PostgreSQL; on SQLite the single writer connection does.
const registryLock = 7_240_411_020

// modelColumns are the columns a listing reads, in scanModel's order.
const modelColumns = "version, task, algorithm, state, created_at, state_at, window_start, window_end, test_auc, details, backtest, checksum"

// RegisterModel stores m as a new version of its task and returns the
// model that was active for the task before, or nil. It fills in m's
// Version, State, CreatedAt, StateAt and Checksum. With trainer.ActivateAuto the
// new model becomes active when no model is, or when its TestAUC is at
// least the active model's; a NaN TestAUC never wins. Registering and
// activating happen in one transaction, serialised against every other
// registry change, so concurrent registrations never leave two models
// active.
func (s *Store) RegisterModel(ctx context.Context, m *trainer.RegisteredModel, act trainer.Activation) (prev *trainer.RegisteredModel, err error) {
	if _, err := trainer.ParseActivation(string(act)); err != nil {
		return nil, fmt.Errorf("registering model: %w", err)
	}
	if m.Task == "" || m.Algorithm == "" || len(m.Artifact) == 0 {
		return nil, errors.New("registering model: task, algorithm and artifact are required")
	}
	record, err := trainer.EncodeRecord(m.Record)
	if err != nil {
		return nil, fmt.Errorf("registering model: %w", err)
	}
	var evaluation []byte
	if m.Record.Result != nil {
		// The evaluation is kept apart from the record as well, for SQL
		// readers of the registry.
		if evaluation, err = json.Marshal(m.Record.Result.Evaluation); err != nil {
			return nil, fmt.Errorf("registering model: %w", err)
		}
	}
	backtest, err := backtestText(m.Backtest)
	if err != nil {
		return nil, fmt.Errorf("registering model: %w", err)
	}
	err = s.registryTx(ctx, func(tx *sqlx.Tx) error {
		prev, err = s.activeModel(ctx, tx, m.Task)
		if err != nil && !errors.Is(err, trainer.ErrModelNotFound) {
			return err
		}
		if err := tx.GetContext(ctx, &m.Version, "SELECT COALESCE(MAX(version), 0) + 1 FROM models"); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		m.CreatedAt, m.StateAt, m.State = now, now, trainer.ModelCandidate
		m.Checksum = checksum(m.Artifact)
		activate := act == trainer.ActivateAlways ||
			act == trainer.ActivateAuto && (prev == nil || m.TestAUC >= prev.TestAUC || math.IsNaN(prev.TestAUC) && !math.IsNaN(m.TestAUC))
		if activate && prev != nil {
			if err := s.setState(ctx, tx, prev.Version, trainer.ModelRetired, now); err != nil {
				return err
			}
		}
		if activate {
			m.State = trainer.ModelActive
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
			jsonText(evaluation, "{}"), string(record), backtest, string(m.Artifact), m.Checksum)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("registering %s model: %w", m.Task, err)
	}
	return prev, nil
}

// Models lists the registered models of task, or of every task when task
// is empty, by version, without their artifacts.
func (s *Store) Models(ctx context.Context, task string) ([]trainer.RegisteredModel, error) {
	q, args := "SELECT "+modelColumns+" FROM models", []any{}
	if task != "" {
		q, args = q+s.r.Rebind(" WHERE task = ?"), append(args, task)
	}
	rows, err := s.r.QueryContext(ctx, q+" ORDER BY version", args...)
	if err != nil {
		return nil, fmt.Errorf("listing models: %w", err)
	}
	defer rows.Close()
	var ms []trainer.RegisteredModel
	for rows.Next() {
		var m trainer.RegisteredModel
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
// returns an error wrapping trainer.ErrChecksum, and no model, when the artifact
// does not match the checksum recorded at registration.
func (s *Store) Model(ctx context.Context, version int64) (*trainer.RegisteredModel, error) {
	m, err := s.loadModel(ctx, s.r, "version = ?", version)
	if err != nil {
		return nil, fmt.Errorf("loading model %d: %w", version, err)
	}
	return m, nil
}

// ActiveModel returns the active model of task with its artifact, checked
// as Model checks it, or an error wrapping trainer.ErrModelNotFound.
func (s *Store) ActiveModel(ctx context.Context, task string) (*trainer.RegisteredModel, error) {
	m, err := s.activeModel(ctx, s.r, task)
	if err != nil {
		return nil, fmt.Errorf("loading active %s model: %w", task, err)
	}
	return m, nil
}

// ActiveVersion returns the version of the active model of task, or an
// error wrapping trainer.ErrModelNotFound: one query on the registry's
// partial unique index, for scorers that poll for a new model.
func (s *Store) ActiveVersion(ctx context.Context, task string) (int64, error) {
	var v int64
	err := s.r.GetContext(ctx, &v, s.r.Rebind("SELECT version FROM models WHERE task = ? AND state = 'active'"), task)
	if errors.Is(err, sql.ErrNoRows) {
		err = trainer.ErrModelNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("reading the active %s model's version: %w", task, err)
	}
	return v, nil
}

func (s *Store) activeModel(ctx context.Context, q sqlx.QueryerContext, task string) (*trainer.RegisteredModel, error) {
	return s.loadModel(ctx, q, "task = ? AND state = 'active'", task)
}

// loadModel reads the one model matching where and verifies its artifact.
func (s *Store) loadModel(ctx context.Context, q sqlx.QueryerContext, where string, arg any) (*trainer.RegisteredModel, error) {
	var m trainer.RegisteredModel
	var artifact string
	row := q.QueryRowxContext(ctx, s.w.Rebind("SELECT "+modelColumns+", artifact FROM models WHERE "+where), arg)
	if err := scanModel(row, &m, &artifact); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, trainer.ErrModelNotFound
		}
		return nil, err
	}
	m.Artifact = []byte(artifact)
	if got := checksum(m.Artifact); got != m.Checksum {
		return nil, fmt.Errorf("%w: version %d recorded %s, artifact hashes to %s", trainer.ErrChecksum, m.Version, m.Checksum, got)
	}
	return &m, nil
}

// ActivateModel makes the given version the active model of its task and
// retires the one it displaces, which it returns (nil if none). Activating
// a retired model is how a bad model is rolled back. The artifact is
// verified first: a model whose artifact fails its checksum is refused.
func (s *Store) ActivateModel(ctx context.Context, version int64) (prev *trainer.RegisteredModel, err error) {
	err = s.registryTx(ctx, func(tx *sqlx.Tx) error {
		m, err := s.loadModel(ctx, tx, "version = ?", version)
		if err != nil {
			return err
		}
		if m.State == trainer.ModelActive {
			return nil
		}
		prev, err = s.activeModel(ctx, tx, m.Task)
		if err != nil && !errors.Is(err, trainer.ErrModelNotFound) {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		// The partial unique index allows one active model per task, so the
		// displaced model is retired before the new one is activated.
		if prev != nil {
			if err := s.setState(ctx, tx, prev.Version, trainer.ModelRetired, now); err != nil {
				return err
			}
		}
		return s.setState(ctx, tx, version, trainer.ModelActive, now)
	})
	if err != nil {
		return nil, fmt.Errorf("activating model %d: %w", version, err)
	}
	return prev, nil
}

// RetireModel retires the given version. It refuses the active model
// (trainer.ErrActiveModel): activate another version to replace it.
func (s *Store) RetireModel(ctx context.Context, version int64) error {
	err := s.registryTx(ctx, func(tx *sqlx.Tx) error {
		var state trainer.ModelState
		if err := tx.GetContext(ctx, &state, tx.Rebind("SELECT state FROM models WHERE version = ?"), version); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return trainer.ErrModelNotFound
			}
			return err
		}
		switch state {
		case trainer.ModelActive:
			return trainer.ErrActiveModel
		case trainer.ModelRetired:
			return nil
		}
		return s.setState(ctx, tx, version, trainer.ModelRetired, time.Now().UTC().Truncate(time.Microsecond))
	})
	if err != nil {
		return fmt.Errorf("retiring model %d: %w", version, err)
	}
	return nil
}

// SetModelBacktest records a backtest with the given version, replacing
// any earlier one.
func (s *Store) SetModelBacktest(ctx context.Context, version int64, backtest *trainer.BacktestResult) error {
	doc, err := backtestText(backtest)
	if err == nil {
		var res sql.Result
		if res, err = s.w.ExecContext(ctx, s.w.Rebind("UPDATE models SET backtest = ? WHERE version = ?"), doc, version); err == nil {
			var n int64
			if n, err = res.RowsAffected(); err == nil && n == 0 {
				err = trainer.ErrModelNotFound
			}
		}
	}
	if err != nil {
		return fmt.Errorf("recording backtest of model %d: %w", version, err)
	}
	return nil
}

// backtestText returns the stored form of a backtest: JSON, or empty for
// none.
func backtestText(b *trainer.BacktestResult) (string, error) {
	if b == nil {
		return "", nil
	}
	doc, err := json.Marshal(b)
	return string(doc), err
}

func (s *Store) setState(ctx context.Context, tx *sqlx.Tx, version int64, state trainer.ModelState, at time.Time) error {
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

// scanModel scans modelColumns, then extra, into m, decoding its record
// with trainer.DecodeRecord, which also reads the records of earlier
// releases.
func scanModel(row scanner, m *trainer.RegisteredModel, extra ...any) error {
	var auc sql.NullFloat64
	var record, backtest string
	dest := append([]any{&m.Version, &m.Task, &m.Algorithm, &m.State, dbTime{&m.CreatedAt}, dbTime{&m.StateAt},
		dbTime{&m.WindowStart}, dbTime{&m.WindowEnd}, &auc, &record, &backtest, &m.Checksum}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	m.TestAUC = math.NaN()
	if auc.Valid {
		m.TestAUC = auc.Float64
	}
	var err error
	if m.Record, err = trainer.DecodeRecord([]byte(record)); err != nil {
		return fmt.Errorf("model %d: %w", m.Version, err)
	}
	if strings.TrimSpace(backtest) != "" {
		m.Backtest = &trainer.BacktestResult{}
		if err := json.Unmarshal([]byte(backtest), m.Backtest); err != nil {
			return fmt.Errorf("model %d: decoding its backtest: %w", m.Version, err)
		}
	}
	return nil
}

// jsonText returns doc as text, or empty when doc is empty.
func jsonText(doc []byte, empty string) string {
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
