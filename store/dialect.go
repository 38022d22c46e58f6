package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
)

// dialect is what differs between the stores.
type dialect interface {
	loader
	name() string
	columnTypes() columnTypes
	// timeArg converts a time to a query argument; the zero time is NULL.
	timeArg(time.Time) any
	// lockMigrations keeps concurrent Migrate calls apart, within tx.
	lockMigrations(ctx context.Context, tx *sqlx.Tx) error
	// sweepRows runs q on db and returns its rows as records of t.
	sweepRows(ctx context.Context, db *sqlx.DB, t features.Table, q query) (rowStream, error)
}
