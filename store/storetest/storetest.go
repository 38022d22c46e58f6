// Package storetest gives tests a fresh, migrated store of each dialect:
// SQLite always, and PostgreSQL when CHURN_TEST_POSTGRES names a server
// (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Each
// store is a file of its own (SQLite) or a schema of its own (PostgreSQL,
// named churn_test_<random> and selected by the DSN's search_path), dropped
// when the test ends, so tests and concurrent runs never see each other's
// data. Schemas rather than databases, because creating a database costs
// a second or more, which adds up over a test suite.
//
// When CHURN_TEST_POSTGRES is set but the server cannot be reached, tests
// fail rather than skip: a CI run that meant to test PostgreSQL must not
// pass without doing so.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that creates schemas

	"github.com/openchurn/churn/store"
)

// EnvPostgres names the environment variable holding the DSN of a
// PostgreSQL server whose user may create databases.
const EnvPostgres = "CHURN_TEST_POSTGRES"

// Dialects returns the dialects to test: "sqlite", and "postgres" when
// CHURN_TEST_POSTGRES is set.
func Dialects() []string {
	if os.Getenv(EnvPostgres) == "" {
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// DSN returns the DSN of a new, empty database of the dialect, dropped when
// t ends. A PostgreSQL test is skipped when CHURN_TEST_POSTGRES is unset.
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "churn.db")
	case "postgres":
		return postgresDSN(t)
	}
	t.Fatalf("storetest: unknown dialect %q", dialect)
	return ""
}

// Open returns a new, migrated store of the dialect, closed and dropped
// when t ends.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, DSN(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Run runs fn as a subtest per dialect, each with a fresh migrated store.
func Run(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

func postgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Skip(EnvPostgres + " is not set")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvPostgres, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "churn_test_" + hex.EncodeToString(b[:])
	if err := adminExec(admin, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: creating schema (is PostgreSQL at %s up?): %v", EnvPostgres, err)
	}
	// Cleanups run last-registered first, so the store (opened after this
	// returns) is closed before its schema is dropped.
	t.Cleanup(func() {
		if err := adminExec(admin, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: dropping schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema) // pgx passes it to the server as a run-time parameter
	u.RawQuery = q.Encode()
	return u.String()
}

// adminExec runs one statement on the server CHURN_TEST_POSTGRES names.
func adminExec(dsn, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
