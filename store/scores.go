package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/serving/score"
)

// ErrNoScore is returned when an account has no stored score for a task.
var ErrNoScore = errors.New("no score")

// scoreColumns are the columns of scores and current_scores, in the order
// scoreArgs and scanScore use.
var scoreColumns = []string{"account_id", "task", "as_of", "model_version", "owner", "probability", "health", "band",
	"pql", "arr", "revenue_at_risk", "previous", "detail", "fingerprint", "scored_at"}

// listColumns are scoreColumns with an empty detail in place of the stored
// one, for the listings that show no reasons: decoding the details is most
// of the cost of reading a page of scores.
var listColumns = strings.Replace(strings.Join(scoreColumns, ", "), "detail", "'{}'", 1)

// scoreArgs appends the column values of sc, in scoreColumns' order, to
// dst. The model version is kept as text and the detail as JSON.
func (s *Store) scoreArgs(dst []any, sc *score.Score) ([]any, error) {
	var prev any
	if !math.IsNaN(sc.Previous) {
		prev = sc.Previous
	}
	detail, err := json.Marshal(sc.Detail)
	if err != nil {
		return dst, fmt.Errorf("score of %s: detail: %w", sc.AccountID, err)
	}
	return append(dst, sc.AccountID, sc.Task, s.dialect.timeArg(sc.AsOf), strconv.FormatInt(sc.ModelVersion, 10), sc.Owner,
		sc.Probability, sc.Health, sc.Band, sc.PQL, sc.ARR, sc.RevenueAtRisk, prev, string(detail), sc.Fingerprint,
		s.dialect.timeArg(sc.ScoredAt)), nil
}

// scanScore reads a row of scoreColumns.
func scanScore(rows interface{ Scan(...any) error }) (score.Score, error) {
	var (
		sc      score.Score
		version string
		prev    sql.NullFloat64
		detail  string
	)
	err := rows.Scan(&sc.AccountID, &sc.Task, dbTime{&sc.AsOf}, &version, &sc.Owner, &sc.Probability, &sc.Health,
		&sc.Band, &sc.PQL, &sc.ARR, &sc.RevenueAtRisk, &prev, &detail, &sc.Fingerprint, dbTime{&sc.ScoredAt})
	if err != nil {
		return sc, err
	}
	sc.Previous = math.NaN()
	if prev.Valid {
		sc.Previous = prev.Float64
	}
	if sc.ModelVersion, err = strconv.ParseInt(version, 10, 64); err != nil {
		return sc, fmt.Errorf("score of %s: model version %q is not an integer", sc.AccountID, version)
	}
	if err := json.Unmarshal([]byte(detail), &sc.Detail); err != nil {
		return sc, fmt.Errorf("score of %s: detail: %w", sc.AccountID, err)
	}
	return sc, nil
}

// scoreBatchRows bounds the rows of one multi-row INSERT: 15 columns × 500
// rows stays under both dialects' bound-parameter limits.
const scoreBatchRows = 500

// PutScores stores scores in one transaction, replacing stored scores with
// the same key, and makes each the account's current score for its task
// unless the current one is as of a later time. Re-running a batch with
// the same inputs therefore leaves the store as it was.
func (s *Store) PutScores(ctx context.Context, scores []score.Score) error {
	if len(scores) == 0 {
		return nil
	}
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storing scores: %w", err)
	}
	defer tx.Rollback()
	cols := strings.Join(scoreColumns, ", ")
	var set strings.Builder
	for i, c := range scoreColumns[3:] {
		if i > 0 {
			set.WriteString(", ")
		}
		fmt.Fprintf(&set, "%s = excluded.%s", c, c)
	}
	args := make([]any, 0, scoreBatchRows*len(scoreColumns))
	for start := 0; start < len(scores); start += scoreBatchRows {
		batch := scores[start:min(start+scoreBatchRows, len(scores))]
		args = args[:0]
		for i := range batch {
			if args, err = s.scoreArgs(args, &batch[i]); err != nil {
				return fmt.Errorf("storing scores: %w", err)
			}
		}
		values := valuesList(len(batch), len(scoreColumns))
		q := "INSERT INTO scores (" + cols + ") " + values +
			" ON CONFLICT (account_id, task, as_of, model_version) DO UPDATE SET " + set.String()
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("storing scores: %w", err)
		}
		q = "INSERT INTO current_scores (" + cols + ") " + values +
			" ON CONFLICT (account_id, task) DO UPDATE SET as_of = excluded.as_of, " + set.String() +
			" WHERE current_scores.as_of <= excluded.as_of"
		if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("storing current scores: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storing scores: %w", err)
	}
	return nil
}

// Freshness returns the latest as-of time and the latest scoring time of
// the current scores of every task; both are zero when none is stored.
func (s *Store) Freshness(ctx context.Context) (asOf, scoredAt time.Time, err error) {
	err = s.r.QueryRowContext(ctx, "SELECT max(as_of), max(scored_at) FROM current_scores").Scan(dbTime{&asOf}, dbTime{&scoredAt})
	if err != nil {
		return asOf, scoredAt, fmt.Errorf("reading the scores' freshness: %w", err)
	}
	return asOf, scoredAt, nil
}

// LatestScoredAt returns the latest scoring time of the current scores of
// every task, zero when none is stored: it changes whenever a batch stores
// scores, and reads one entry of the index current_scores_scored_at.
func (s *Store) LatestScoredAt(ctx context.Context) (time.Time, error) {
	var at time.Time
	if err := s.r.QueryRowContext(ctx, "SELECT max(scored_at) FROM current_scores").Scan(dbTime{&at}); err != nil {
		return at, fmt.Errorf("reading the latest scoring time: %w", err)
	}
	return at, nil
}

// CurrentProbabilities returns the probabilities of the current scores of
// task, in no order: the book that alert thresholds are relative to.
func (s *Store) CurrentProbabilities(ctx context.Context, task string) ([]float64, error) {
	var ps []float64
	if err := s.r.SelectContext(ctx, &ps, s.r.Rebind("SELECT probability FROM current_scores WHERE task = ?"), task); err != nil {
		return nil, fmt.Errorf("reading current probabilities: %w", err)
	}
	return ps, nil
}

// RetireScores removes the current score for task of each of accountIDs
// whose current score is as of asOf or earlier: the accounts the task no
// longer scores as of asOf (a churned customer, a trial that converted or
// ended). Their stored scores stay as history. It returns how many
// current scores it removed.
func (s *Store) RetireScores(ctx context.Context, task string, asOf time.Time, accountIDs []string) (int64, error) {
	var n int64
	for start := 0; start < len(accountIDs); start += scoreBatchRows {
		batch := accountIDs[start:min(start+scoreBatchRows, len(accountIDs))]
		q, args, err := sqlx.In("DELETE FROM current_scores WHERE task = ? AND as_of <= ? AND account_id IN (?)", task, s.dialect.timeArg(asOf), batch)
		if err != nil {
			return n, fmt.Errorf("retiring scores: %w", err)
		}
		res, err := s.w.ExecContext(ctx, s.w.Rebind(q), args...)
		if err != nil {
			return n, fmt.Errorf("retiring scores: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("retiring scores: %w", err)
		}
		n += k
	}
	return n, nil
}

// PreviousProbabilities returns, for each of the accounts that has one,
// the probability of its latest score for task as of a time before asOf.
func (s *Store) PreviousProbabilities(ctx context.Context, task string, asOf time.Time, accountIDs []string) (map[string]float64, error) {
	out := make(map[string]float64, len(accountIDs))
	if len(accountIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT account_id, probability FROM scores
		WHERE task = ? AND as_of < ? AND account_id IN (?)
		ORDER BY account_id, as_of DESC, scored_at DESC`, task, s.dialect.timeArg(asOf), accountIDs)
	if err != nil {
		return nil, fmt.Errorf("reading previous scores: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading previous scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			p  float64
		)
		if err := rows.Scan(&id, &p); err != nil {
			return nil, fmt.Errorf("reading previous scores: %w", err)
		}
		if _, seen := out[id]; !seen {
			out[id] = p
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading previous scores: %w", err)
	}
	return out, nil
}

// CurrentScore returns the account's current score for task, or
// ErrNoScore.
func (s *Store) CurrentScore(ctx context.Context, accountID, task string) (score.Score, error) {
	row := s.r.QueryRowContext(ctx, s.r.Rebind("SELECT "+strings.Join(scoreColumns, ", ")+
		" FROM current_scores WHERE account_id = ? AND task = ?"), accountID, task)
	sc, err := scanScore(row)
	if errors.Is(err, sql.ErrNoRows) {
		return sc, fmt.Errorf("account %s, task %s: %w", accountID, task, ErrNoScore)
	}
	if err != nil {
		return sc, fmt.Errorf("reading score of %s: %w", accountID, err)
	}
	return sc, nil
}

// ScoreHistory returns up to limit of the account's scores for task,
// latest first, without their Detail (a trend shows none).
func (s *Store) ScoreHistory(ctx context.Context, accountID, task string, limit int) ([]score.Score, error) {
	return s.queryScores(ctx, "SELECT "+listColumns+
		" FROM scores WHERE account_id = ? AND task = ? ORDER BY as_of DESC, scored_at DESC LIMIT ?", accountID, task, limit)
}

// CurrentScores lists current scores for q.Task, highest probability
// first (ties by account id), filtered and paged by q, without their
// Detail (a listing shows none; CurrentScore and ScoreRows read it).
func (s *Store) CurrentScores(ctx context.Context, q score.Query) ([]score.Score, error) {
	var (
		where = []string{"task = ?"}
		args  = []any{q.Task}
	)
	if q.Owner != "" {
		where, args = append(where, "owner = ?"), append(args, q.Owner)
	}
	if q.Band != "" {
		where, args = append(where, "band = ?"), append(args, q.Band)
	}
	if q.PQL != nil {
		where, args = append(where, "pql = ?"), append(args, *q.PQL)
	}
	if q.After != nil {
		where = append(where, "(probability < ? OR (probability = ? AND account_id > ?))")
		args = append(args, q.After.Probability, q.After.Probability, q.After.AccountID)
	}
	args = append(args, q.Limit)
	return s.queryScores(ctx, "SELECT "+listColumns+" FROM current_scores WHERE "+
		strings.Join(where, " AND ")+" ORDER BY probability DESC, account_id LIMIT ?", args...)
}

// CountScores returns how many score rows the store holds for task, every
// as_of and model version included.
func (s *Store) CountScores(ctx context.Context, task string) (int64, error) {
	var n int64
	if err := s.r.GetContext(ctx, &n, s.r.Rebind("SELECT count(*) FROM scores WHERE task = ?"), task); err != nil {
		return 0, fmt.Errorf("counting scores: %w", err)
	}
	return n, nil
}

func (s *Store) queryScores(ctx context.Context, q string, args ...any) ([]score.Score, error) {
	rows, err := s.r.QueryContext(ctx, s.r.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading scores: %w", err)
	}
	defer rows.Close()
	var out []score.Score
	for rows.Next() {
		sc, err := scanScore(rows)
		if err != nil {
			return nil, fmt.Errorf("reading scores: %w", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading scores: %w", err)
	}
	return out, nil
}
