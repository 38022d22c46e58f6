package transform

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // --source databases
	"modernc.org/sqlite"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// Workspace is a database in which a transform runs: the embedded staging
// database of Stage, or a PostgreSQL source of Connect. Its methods must
// not be called concurrently.
type Workspace struct {
	db      *sql.DB
	conn    *sql.Conn // PostgreSQL: the connection holding tx
	tx      *sql.Tx   // PostgreSQL: everything happens in it, rolled back at Close
	dir     string    // SQLite: the folder of the staging database
	files   map[string]string
	dialect string // "sqlite" or "postgres"
}

// Connect opens the PostgreSQL database dsn as a transform's source. The
// transform runs in a transaction with a schema of its own first on the
// search path, so its views and tables are created there and the
// database's own tables are found after it; Close rolls it all back.
func Connect(ctx context.Context, dsn string) (*Workspace, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening source: %w", err)
	}
	w := &Workspace{db: db, dialect: "postgres"}
	if w.conn, err = db.Conn(ctx); err == nil {
		w.tx, err = w.conn.BeginTx(ctx, nil)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening source: %w", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "churn_transform_" + hex.EncodeToString(b[:])
	_, err = w.tx.ExecContext(ctx, "CREATE SCHEMA "+schema+"; SELECT set_config('search_path', '"+schema+", ' || current_setting('search_path'), true)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening source: creating a schema for the transform: %w", err)
	}
	return w, nil
}

// Close removes the staging database, or rolls back a source's
// transaction, so nothing of the transform is left behind.
func (w *Workspace) Close() error {
	if w.tx != nil {
		w.tx.Rollback()
	}
	if w.conn != nil {
		w.conn.Close()
	}
	err := w.db.Close()
	if w.dir != "" {
		if rerr := os.RemoveAll(w.dir); err == nil {
			err = rerr
		}
	}
	return err
}

// q runs queries where the transform's objects are visible.
func (w *Workspace) q() interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
} {
	if w.tx != nil {
		return w.tx
	}
	return w.db
}

// Apply runs the SQL statements of script in order; name names the
// script in errors.
func (w *Workspace) Apply(ctx context.Context, name, script string) error {
	if strings.TrimSpace(script) == "" {
		return fmt.Errorf("transform %s: holds no statements", name)
	}
	if _, err := w.q().ExecContext(ctx, script); err != nil {
		return fmt.Errorf("transform %s: %w", name, err)
	}
	return nil
}

// Query runs a query where the transform's objects are visible: to look
// at what it staged or made.
func (w *Workspace) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return w.q().QueryContext(ctx, query, args...)
}

// Canonical returns the canonical tables that the transform defined (as
// views or tables of those names), in load order: accounts first.
func (w *Workspace) Canonical(ctx context.Context) ([]features.Table, error) {
	query := "SELECT name FROM sqlite_schema WHERE type IN ('view', 'table')"
	if w.dialect == "postgres" {
		// Only the transform's own schema: the source's tables of the same
		// names, if any, are not what the transform defined.
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	rows, err := w.q().QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("listing the transform's views: %w", err)
	}
	defer rows.Close()
	defined := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		defined[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []features.Table
	for _, t := range features.Tables {
		if defined[string(t)] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the transform defines none of the canonical tables " + tableList())
	}
	return out, nil
}

func tableList() string {
	names := make([]string, len(features.Tables))
	for i, t := range features.Tables {
		names[i] = string(t)
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// Error is a bad row of a canonical view: "tickets (helpdesk_tickets.csv:44):
// column "priority": …" when the view selects _line, else
// "tickets (row 17): …".
type Error struct {
	View features.Table
	File string // the staged file _line comes from; "" when unknown
	Line int    // _line, or the row number when Row
	Row  bool   // Line counts the view's rows: it has no _line
	Err  error
	// rowOnly is set when the error is one row's values; see RowOnly.
	rowOnly bool
}

// RowOnly reports whether e is one row's values, after which a Source
// told to SkipInvalid reads on.
func (e *Error) RowOnly() bool { return e.rowOnly }

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %v", e.View, e.Err)
	case e.Row:
		return fmt.Sprintf("%s (row %d): %v", e.View, e.Line, e.Err)
	case e.File != "":
		return fmt.Sprintf("%s (%s:%d): %v", e.View, e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s (line %d): %v", e.View, e.Line, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Source reads the rows of canonical view t as records of t, through
// recordio's decoder with mapping m (nil for none). It is a load.Source,
// a store.Rewinder and a store.Locator.
type Source struct {
	w     *Workspace
	ctx   context.Context
	table features.Table
	m     *recordio.Mapping
	rows  *viewRows
	dec   *recordio.Decoder
	file  string

	skipInvalid bool
}

// Source returns the Source of view t. The Workspace must stay open while
// it is read.
func (w *Workspace) Source(ctx context.Context, t features.Table, m *recordio.Mapping) (*Source, error) {
	s := &Source{w: w, ctx: ctx, table: t, m: m}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Source) open() error {
	if s.file == "" {
		// Before the query: the staging database has one connection.
		s.file = s.w.lineFile(s.ctx, s.table)
	}
	rows, err := s.w.q().QueryContext(s.ctx, "SELECT * FROM "+quote(string(s.table)))
	if err != nil {
		return fmt.Errorf("reading view %s: %w", s.table, err)
	}
	vr, err := newViewRows(rows)
	if err != nil {
		rows.Close()
		return fmt.Errorf("reading view %s: %w", s.table, err)
	}
	d, err := recordio.NewRowsDecoder(vr, string(s.table), s.table, s.m)
	if err != nil {
		rows.Close()
		return err
	}
	d.RefuseUnknown() // a typo in a view must not vanish
	if s.skipInvalid {
		d.SkipInvalid()
	}
	s.rows, s.dec = vr, d
	return nil
}

// Close releases the view's rows.
func (s *Source) Close() error { return s.rows.rows.Close() }

// Next returns the next record of the view, or io.EOF.
func (s *Source) Next() (recordio.Record, error) {
	rec, err := s.dec.Next()
	var re *recordio.Error
	if errors.As(err, &re) {
		return nil, &Error{View: s.table, File: s.file, Line: re.Line, Row: s.rows.lineAt < 0, Err: re.Err, rowOnly: re.Row}
	}
	return rec, err
}

// SkipInvalid makes Next read on after a row with bad values, as
// recordio.Decoder.SkipInvalid does.
func (s *Source) SkipInvalid() {
	s.skipInvalid = true
	s.dec.SkipInvalid()
}

// Rewind queries the view again.
func (s *Source) Rewind() error {
	s.rows.rows.Close()
	return s.open()
}

// Line returns the _line of the last row read, or its row number when the
// view has no _line.
func (s *Source) Line() int { return s.dec.Line() }

// Errorf returns err as an *Error of the row at line.
func (s *Source) Errorf(line int, err error) error {
	return &Error{View: s.table, File: s.file, Line: line, Row: s.rows.lineAt < 0, Err: err}
}

// lineFile returns the staged file that view t's _line column comes from,
// as SQLite resolves it through views; "" when it cannot tell (an
// expression, a union, a PostgreSQL source).
func (w *Workspace) lineFile(ctx context.Context, t features.Table) string {
	if w.dialect != "sqlite" {
		return ""
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return ""
	}
	defer conn.Close()
	var file string
	conn.Raw(func(dc any) error {
		if ci, ok := dc.(interface {
			ColumnInfo(query string) ([]sqlite.ColumnInfo, error)
		}); ok {
			if info, err := ci.ColumnInfo("SELECT " + LineColumn + " FROM " + quote(string(t))); err == nil && len(info) == 1 {
				file = w.files[info[0].TableName]
			}
		}
		return nil
	})
	return file
}

// viewRows adapts a query's rows to recordio.Rows: values as text, NULL
// as empty, _line taken out of the header and used as the line.
type viewRows struct {
	rows    *sql.Rows
	header  []string
	lineAt  int // the position of _line among the columns; -1 when absent
	n       int // rows read
	line    int
	raw     []any
	ptrs    []any // to raw's elements, for Scan
	vals    []string
	started bool
}

func newViewRows(rows *sql.Rows) (*viewRows, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	v := &viewRows{rows: rows, lineAt: -1, raw: make([]any, len(cols)), ptrs: make([]any, len(cols))}
	for i := range v.raw {
		v.ptrs[i] = &v.raw[i]
	}
	for i, c := range cols {
		if strings.EqualFold(c, LineColumn) {
			v.lineAt = i
			continue
		}
		v.header = append(v.header, c)
	}
	v.vals = make([]string, len(v.header))
	return v, nil
}

func (v *viewRows) Read() ([]string, error) {
	if !v.started {
		v.started = true
		return v.header, nil
	}
	if !v.rows.Next() {
		if err := v.rows.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	if err := v.rows.Scan(v.ptrs...); err != nil {
		return nil, err
	}
	v.n++
	v.line = v.n
	j := 0
	for i, x := range v.raw {
		if i == v.lineAt {
			if n, err := strconv.Atoi(text(x)); err == nil {
				v.line = n
			}
			continue
		}
		v.vals[j] = text(x)
		j++
	}
	return v.vals, nil
}

func (v *viewRows) Line() int {
	if !v.started || v.n == 0 {
		return 0
	}
	return v.line
}

// text is a value as a CSV field would hold it.
func text(x any) string {
	switch x := x.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(x)
}
