package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
)

// noStart is the created_at of an account loaded without one, from the
// moment its row is written until, in the same transaction, the load gives
// it a start: a time no export holds.
var noStart = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// An account loaded without created_at starts at its earliest record of any
// table: its own trial, conversion and churn times, and the times of its
// usage events, tickets, escalations, survey responses and billing changes,
// as stored when the account is loaded; an account of which nothing is
// known yet starts at the time of the load. The store marks such accounts
// (accounts.created_at_inferred), and every later load of an event table
// moves their start earlier when it brings an older record. Doing this at
// load time, in the load's transaction, keeps every reader of created_at
// unaware of it. A later accounts row that gives created_at replaces the
// inferred one; one that does not keeps it.

// inferStarts gives a start to the accounts that the load of t in tx left
// without one, or moves inferred starts earlier; it returns how many
// accounts got a start from this load.
func inferStarts(ctx context.Context, tx *sqlx.Tx, d dialect, t features.Table, now time.Time) (int64, error) {
	if !slices.Contains(features.Tables, t) {
		return 0, nil // spend belongs to no account
	}
	if t != features.Accounts {
		first := "(SELECT min(" + t.TimeColumn() + ") FROM " + string(t) + " e WHERE e.account_id = accounts.account_id)"
		_, err := tx.ExecContext(ctx, "UPDATE accounts SET created_at = "+first+" WHERE created_at_inferred AND "+first+" < created_at")
		if err != nil {
			return 0, fmt.Errorf("loading %s: moving inferred account starts: %w", t, err)
		}
		return 0, nil
	}
	none := d.timeArg(noStart)
	earliest := []string{"coalesce(trial_started_at, ?)", "coalesce(converted_at, ?)", "coalesce(churned_at, ?)"}
	args := []any{none, none, none}
	for _, e := range features.Tables[1:] {
		earliest = append(earliest, "coalesce((SELECT min("+e.TimeColumn()+") FROM "+string(e)+" e WHERE e.account_id = accounts.account_id), ?)")
		args = append(args, none)
	}
	least := "least"
	if d.name() == "sqlite" {
		least = "min" // with several arguments, SQLite's min is a scalar
	}
	r, err := tx.ExecContext(ctx, tx.Rebind("UPDATE accounts SET created_at_inferred = TRUE, created_at = "+least+"("+strings.Join(earliest, ", ")+") WHERE created_at = ?"),
		append(args, none)...)
	if err != nil {
		return 0, fmt.Errorf("loading accounts: inferring starts: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE accounts SET created_at = ? WHERE created_at = ?"), d.timeArg(now), none); err != nil {
		return 0, fmt.Errorf("loading accounts: inferring starts: %w", err)
	}
	return n, nil
}
