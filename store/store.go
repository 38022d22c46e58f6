package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a database of canonical records. It is safe for concurrent use.
type Store struct {
	dialect dialect
	// w runs every write. On SQLite it holds a single connection, so that
	// writers queue in Go rather than fail on a locked database.
	w *sqlx.DB
	// r runs reads; on SQLite a separate pool, so that reads proceed
	// (under WAL) while a long load holds the writer. On PostgreSQL r == w.
	r *sqlx.DB
	// log receives what the store reports: each sweep's accounts and rows
	// (Info), each load's phases (Debug).
	log *slog.Logger
}

// Option configures a Store at Open.
type Option func(*Store)

// WithLogger makes the store log to l; without it, it logs nothing.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// Open connects to the store named by dsn: sqlite:PATH or postgres://….
// It does not migrate; call Migrate for that.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		s, err = openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(ctx, dsn)
	default:
		return nil, unknownScheme(dsn)
	}
	if err != nil {
		return nil, err
	}
	s.log = slog.New(slog.DiscardHandler)
	for _, o := range opts {
		o(s)
	}
	if _, ok := s.dialect.(postgresDialect); ok {
		s.dialect = postgresDialect{log: s.log}
	}
	return s, nil
}

// unknownScheme is Open's error for a DSN of no known scheme.
func unknownScheme(dsn string) error {
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || scheme == "" {
		return fmt.Errorf("opening store: DSN %q has no scheme (want sqlite:PATH or postgres://…)", dsn)
	}
	return fmt.Errorf("opening store: unknown DSN scheme %q (want sqlite:PATH or postgres://…)", scheme)
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening store: sqlite: DSN has no path")
	}
	// WAL lets readers proceed during a load; busy_timeout covers the
	// moments another process holds the lock; NORMAL sync is durable in WAL
	// mode except for the last transactions on power loss. Writers take the
	// lock at BEGIN (immediate), so they never deadlock upgrading it.
	// PATH may carry URI parameters after a "?"; the file name before it
	// is escaped, or a "#" in it (a test's temporary folder) would end the
	// URI there and open another file.
	name, params, hasParams := strings.Cut(path, "?")
	name = strings.NewReplacer("%", "%25", "#", "%23").Replace(name)
	sep := "?"
	if hasParams {
		name, sep = name+"?"+params, "&"
	}
	base := "file:" + name + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	// The writer gets a 256 MiB page cache (SQLite's default is 2 MiB)
	// and keeps statement journals in memory: a bulk load into indexed
	// tables otherwise spills pages, and journals every multi-row upsert,
	// through the kernel.
	w, err := sqlx.Open("sqlite", base+"&_pragma=cache_size(-262144)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := w.PingContext(ctx); err != nil { // creates the file and switches it to WAL
		w.Close()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	r, err := sqlx.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	return &Store{dialect: sqliteDialect{}, w: w, r: r}, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sqlx.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening store: %w", err)
	}
	return &Store{dialect: postgresDialect{}, w: db, r: db}, nil
}

// Close closes the store's connections.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}
