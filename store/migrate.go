package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// A migration is one numbered schema change.
type migration struct {
	version int
	name    string // file name without extension, e.g. 0001_canonical_tables
	sql     string // template text, expanded per dialect
}

// columnTypes are the fields a migration template may use.
type columnTypes struct {
	// Dialect is "sqlite" or "postgres", for the rare statement that
	// differs in more than its types.
	Dialect                                 string
	ID, Text, Int, Float, Bool, False, Time string
	// WithoutRowID follows CREATE TABLE (…) of keyed tables: on SQLite it
	// clusters rows by key, here by account_id first.
	WithoutRowID string
}

// migrations returns the embedded migrations in version order. A file
// name must start with its version number and an underscore.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".sql")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name does not start with a version number", name)
		}
		data, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(data)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// render expands a migration template for the dialect.
func (m migration) render(types columnTypes) (string, error) {
	tmpl, err := template.New(m.name).Option("missingkey=error").Parse(m.sql)
	if err != nil {
		return "", fmt.Errorf("migration %s: %w", m.name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, types); err != nil {
		return "", fmt.Errorf("migration %s: %w", m.name, err)
	}
	return b.String(), nil
}

// Migrate brings the schema up to date and returns the names of the
// migrations it applied, none when the schema was current. It applies
// them in one transaction, under a lock on PostgreSQL, so that servers
// starting together do not race and a failed migration leaves nothing
// half-done.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	return s.migrate(ctx, math.MaxInt)
}

// migrate is Migrate up to version upTo.
func (s *Store) migrate(ctx context.Context, upTo int) (applied []string, err error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrating: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := s.dialect.lockMigrations(ctx, tx); err != nil {
		return nil, fmt.Errorf("migrating: locking: %w", err)
	}
	types := s.dialect.columnTypes()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at `+types.Time+` NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("migrating: creating schema_migrations: %w", err)
	}
	var done []int
	if err := tx.SelectContext(ctx, &done, `SELECT version FROM schema_migrations`); err != nil {
		return nil, fmt.Errorf("migrating: reading schema_migrations: %w", err)
	}
	have := make(map[int]bool, len(done))
	for _, v := range done {
		have[v] = true
	}
	for _, m := range ms {
		if have[m.version] || m.version > upTo {
			continue
		}
		sql, err := m.render(types)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, sql); err != nil {
			return nil, fmt.Errorf("migrating: applying %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.version, m.name, s.dialect.timeArg(time.Now())); err != nil {
			return nil, fmt.Errorf("migrating: recording %s: %w", m.name, err)
		}
		applied = append(applied, m.name)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("migrating: %w", err)
	}
	return applied, nil
}
