package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/training/trainer"
)

// Quality is what looks wrong in a store's data as a whole: the report of a
// dry run, and the warnings after a load.
type Quality struct {
	// Orphans counts, per table, the rows for accounts that no accounts
	// row knows.
	Orphans []TableCount `json:"orphans"`
	// BeforeStart counts, per table, the rows dated before their
	// account's created_at.
	BeforeStart []TableCount `json:"before_start"`
	// InFuture counts, per table, the rows dated after the time of the
	// check.
	InFuture []TableCount `json:"in_future"`
	// NeverBilled counts the accounts without a billing change: never
	// paying, so never churning.
	NeverBilled Count `json:"never_billed"`
	// EndlessTrials counts the trials without an end, a conversion (nor a
	// billing change after their start) or a churn.
	EndlessTrials Count `json:"endless_trials"`
	// StartsInferred counts the accounts loaded without created_at, which
	// start at their earliest record.
	StartsInferred Count `json:"starts_inferred"`
	// Churn and Conversion count the accounts each task can learn from,
	// by the definitions of training/dataset, but over all time rather
	// than a training window's observation dates.
	Churn      TaskAccounts `json:"churn"`
	Conversion TaskAccounts `json:"conversion"`
	// Training, set by DryRun only (it sweeps every history), is what
	// each task's default training run would hold: trainer.TakeCensus.
	Training []trainer.Census `json:"training,omitempty"`
}

// TaskAccounts counts a task's accounts: those it observes at some time
// (ever paying; ever in a trial) and those with a positive outcome (a
// churn; a conversion).
type TaskAccounts struct {
	Eligible  int64 `json:"eligible"`
	Positives int64 `json:"positives"`
}

// Count is a number of rows or accounts with the first account, by id, as
// an example.
type Count struct {
	Count int64  `json:"count"`
	First string `json:"first,omitempty"`
}

// TableCount is a Count of one table's rows.
type TableCount struct {
	Table features.Table `json:"table"`
	Count
}

// Quality checks the stored data as of now: the rows of tables (all event
// tables when none is given; each check reads the whole table) and the
// accounts.
func (s *Store) Quality(ctx context.Context, now time.Time, tables ...features.Table) (Quality, error) {
	return quality(ctx, s.r, s.r.Rebind, s.dialect, now, tables)
}

func quality(ctx context.Context, q sqlx.QueryerContext, rebind func(string) string, d dialect, now time.Time, tables []features.Table) (Quality, error) {
	if len(tables) == 0 {
		tables = features.Tables[1:]
	}
	out := Quality{Orphans: []TableCount{}, BeforeStart: []TableCount{}, InFuture: []TableCount{}}
	count := func(dst *Count, query string, args ...any) error {
		var row struct {
			N     int64   `db:"n"`
			First *string `db:"first"`
		}
		if err := sqlx.GetContext(ctx, q, &row, rebind(query), args...); err != nil {
			return fmt.Errorf("checking data: %w", err)
		}
		dst.Count = row.N
		if row.First != nil {
			dst.First = *row.First
		}
		return nil
	}
	for _, t := range tables {
		if t == features.Accounts || !slices.Contains(features.Tables, t) {
			continue // spend belongs to no account
		}
		at := "e." + t.TimeColumn()
		from := " FROM " + string(t) + " e"
		checks := []struct {
			dst   *[]TableCount
			query string
			args  []any
		}{
			{&out.Orphans, from + " WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = e.account_id)", nil},
			{&out.BeforeStart, from + " JOIN accounts a ON a.account_id = e.account_id WHERE " + at + " < a.created_at", nil},
			{&out.InFuture, from + " WHERE " + at + " > ?", []any{d.timeArg(now)}},
		}
		for _, c := range checks {
			var n Count
			if err := count(&n, "SELECT count(*) AS n, min(e.account_id) AS first"+c.query, c.args...); err != nil {
				return out, err
			}
			if n.Count > 0 {
				*c.dst = append(*c.dst, TableCount{Table: t, Count: n})
			}
		}
	}
	accounts := []struct {
		dst   *Count
		where string
	}{
		{&out.NeverBilled, "NOT EXISTS (SELECT 1 FROM billing_changes b WHERE b.account_id = a.account_id)"},
		{&out.EndlessTrials, "trial_started_at IS NOT NULL AND trial_ends_at IS NULL AND converted_at IS NULL AND churned_at IS NULL " +
			"AND NOT EXISTS (SELECT 1 FROM billing_changes b WHERE b.account_id = a.account_id AND b.at > a.trial_started_at)"},
		{&out.StartsInferred, "created_at_inferred"},
	}
	for _, c := range accounts {
		if err := count(c.dst, "SELECT count(*) AS n, min(account_id) AS first FROM accounts a WHERE "+c.where); err != nil {
			return out, err
		}
	}
	// A churn is a billing change of kind churn or, for an account without
	// one, churned_at; a conversion is converted_at or a billing change
	// after the trial started.
	tasks := []struct {
		dst   *int64
		where string
	}{
		{&out.Churn.Eligible, "EXISTS (SELECT 1 FROM billing_changes b WHERE b.account_id = a.account_id AND b.mrr > 0)"},
		{&out.Churn.Positives, "EXISTS (SELECT 1 FROM billing_changes b WHERE b.account_id = a.account_id AND b.mrr > 0) AND " +
			"(EXISTS (SELECT 1 FROM billing_changes b WHERE b.account_id = a.account_id AND b.kind = 'churn') OR " +
			"(churned_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM billing_changes b WHERE b.account_id = a.account_id AND b.kind = 'churn')))"},
		{&out.Conversion.Eligible, "trial_started_at IS NOT NULL"},
		{&out.Conversion.Positives, "trial_started_at IS NOT NULL AND (converted_at IS NOT NULL OR " +
			"EXISTS (SELECT 1 FROM billing_changes b WHERE b.account_id = a.account_id AND b.at > a.trial_started_at))"},
	}
	for _, c := range tasks {
		var n Count
		if err := count(&n, "SELECT count(*) AS n, min(account_id) AS first FROM accounts a WHERE "+c.where); err != nil {
			return out, err
		}
		*c.dst = n.Count
	}
	return out, nil
}

// DryRun runs fn with a Loader whose loads behave exactly as LoadWith's,
// counts and refusals included, but share one transaction that is rolled
// back at the end, so the store is left as it was. Each load runs in a
// savepoint: a refused one is undone and the others see each other's
// rows, as they would after a real load. DryRun returns the Quality of
// the data as the loads would leave it, with the census of each task's
// default training run. On SQLite the dry run holds the
// writer until it ends; on PostgreSQL a load into a table that never held
// rows locks it until then.
func (s *Store) DryRun(ctx context.Context, now time.Time, fn func(Loader) error) (Quality, error) {
	conn, err := s.w.Connx(ctx)
	if err != nil {
		return Quality{}, fmt.Errorf("dry run: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return Quality{}, fmt.Errorf("dry run: %w", err)
	}
	defer tx.Rollback()
	if err := fn(dryRun{s: s, in: &session{conn: conn, tx: tx}}); err != nil {
		return Quality{}, err
	}
	q, err := quality(ctx, tx, tx.Rebind, s.dialect, now, nil)
	if err != nil {
		return q, err
	}
	snap := Snapshot{q: tx}
	ext, err := snap.Extent(ctx)
	if err != nil {
		return q, fmt.Errorf("dry run: %w", err)
	}
	if q.Training, err = trainer.TakeCensus(ctx, ext, snap); err != nil {
		return q, fmt.Errorf("dry run: %w", err)
	}
	return q, nil
}

// dryRun is the Loader of DryRun.
type dryRun struct {
	s  *Store
	in *session
}

func (d dryRun) LoadWith(ctx context.Context, t features.Table, src load.Source, opts load.Options) (load.Result, error) {
	return d.s.loadWith(ctx, d.in, t, src, opts)
}
