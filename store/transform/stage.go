package transform

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the embedded staging database

	"github.com/openchurn/churn/features/recordio"
)

// TableName returns the staging table of the file at path: its base name
// without extension, lowercased, every character other than [a-z0-9_]
// turned into "_".
func TableName(path string) string {
	base := filepath.Base(path)
	base = strings.ToLower(strings.TrimSuffix(base, filepath.Ext(base)))
	b := []byte(base)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// LineColumn is the staging column that holds each row's source line.
const LineColumn = "_line"

// stageBatchRows returns how many rows of ncol columns (and _line) one
// staging INSERT carries: many, to spread the statement's cost, but under
// SQLite's 32766 bound parameters for exports of any width.
func stageBatchRows(ncol int) int { return max(1, min(512, 32000/(ncol+1))) }

// Stage creates a temporary embedded SQLite database holding each file of
// paths (folders mean every .csv, .ndjson and .jsonl file in them) as a
// table, as the package documentation describes. Two files that map to
// one table name are an error. Close removes the database.
func Stage(ctx context.Context, paths []string) (*Workspace, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "churn-transform-")
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	// Nothing here needs to survive a crash: no journal, no syncs.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "staging.db")+
		"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-131072)&_pragma=temp_store(MEMORY)")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("staging: %w", err)
	}
	db.SetMaxOpenConns(1) // one connection: temporary objects stay visible
	w := &Workspace{db: db, dir: dir, files: map[string]string{}, dialect: "sqlite"}
	for _, f := range files {
		name := TableName(f)
		if prev, dup := w.files[name]; dup {
			w.Close()
			return nil, fmt.Errorf("staging: %s and %s are both staged as table %s; rename one", prev, f, name)
		}
		w.files[name] = filepath.Base(f)
		if err := w.stageFile(ctx, f, name); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// expand lists the export files of paths, folders expanded.
func expand(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("staging: %w", err)
		}
		if !info.IsDir() {
			if _, err := recordio.FormatOf(p); err != nil {
				return nil, fmt.Errorf("staging: %w", err)
			}
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if _, ferr := recordio.FormatOf(path); ferr == nil {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("staging: reading folder %s: %w", p, err)
		}
	}
	return files, nil
}

// rowSource yields a file's rows as text fields with their lines; nil
// fields are NULL.
type rowSource interface {
	header() []string                            // the columns so far
	next() (vals []*string, line int, err error) // io.EOF at the end
}

// stageFile copies the file at path into table name.
func (w *Workspace) stageFile(ctx context.Context, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	defer f.Close()
	format, _ := recordio.FormatOf(path)
	var src rowSource
	if format == recordio.CSV {
		c := &csvRows{rows: recordio.NewCSVRows(f), file: filepath.Base(path)}
		if err := c.readHeader(); err != nil {
			return err
		}
		src = c
	} else {
		src = &ndjsonRows{r: bufio.NewReaderSize(f, 64<<10), file: filepath.Base(path), index: map[string]int{}}
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("staging %s: %w", path, err)
	}
	defer tx.Rollback()
	cols := src.header()
	if _, err := tx.ExecContext(ctx, createTable(name, cols)); err != nil {
		return fmt.Errorf("staging %s: %w", path, err)
	}
	var (
		args  []any
		rows  int
		batch = stageBatchRows(len(cols))
		full  *sql.Stmt // the INSERT of a full batch, prepared once
	)
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	flush := func() error {
		var err error
		switch {
		case rows == 0:
			return nil
		case rows == batch && full == nil:
			if full, err = tx.PrepareContext(ctx, insertRows(name, len(cols), rows)); err == nil {
				_, err = full.ExecContext(ctx, args...)
			}
		case rows == batch:
			_, err = full.ExecContext(ctx, args...)
		default:
			_, err = tx.ExecContext(ctx, insertRows(name, len(cols), rows), args...)
		}
		args, rows = args[:0], 0
		return err
	}
	for {
		vals, line, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(vals) > len(cols) { // an NDJSON key seen for the first time
			if err := flush(); err != nil {
				return fmt.Errorf("staging %s: %w", path, err)
			}
			if full != nil {
				full.Close()
				full = nil
			}
			for _, c := range src.header()[len(cols):] {
				if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quote(name)+" ADD COLUMN "+quote(c)+" TEXT"); err != nil {
					return fmt.Errorf("staging %s: %w", path, err)
				}
			}
			cols = src.header()
			batch = stageBatchRows(len(cols))
		}
		args = append(args, line)
		for i := range cols {
			if i < len(vals) && vals[i] != nil {
				args = append(args, *vals[i])
			} else {
				args = append(args, nil)
			}
		}
		if rows++; rows == batch {
			if err := flush(); err != nil {
				return fmt.Errorf("staging %s: %w", path, err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("staging %s: %w", path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("staging %s: %w", path, err)
	}
	return nil
}

func quote(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }

func createTable(name string, cols []string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + quote(name) + " (" + LineColumn + " INTEGER NOT NULL")
	for _, c := range cols {
		b.WriteString(", " + quote(c) + " TEXT")
	}
	b.WriteString(")")
	return b.String()
}

func insertRows(name string, ncol, rows int) string {
	row := "(?" + strings.Repeat(", ?", ncol) + ")"
	return "INSERT INTO " + quote(name) + " VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// csvRows reads a CSV file for staging.
type csvRows struct {
	rows recordio.Rows
	file string
	cols []string
	vals []*string
	buf  []string
}

func (c *csvRows) readHeader() error {
	h, err := c.rows.Read()
	if err == io.EOF {
		return fmt.Errorf("staging %s:1: no header row", c.file)
	}
	if err != nil {
		return fmt.Errorf("staging %s: %w", c.file, err)
	}
	seen := map[string]bool{LineColumn: true}
	for i, name := range h {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		name = strings.TrimSpace(name)
		if name == "" || seen[strings.ToLower(name)] {
			return fmt.Errorf("staging %s:1: column %d: %q is empty, repeated or %s", c.file, i+1, name, LineColumn)
		}
		seen[strings.ToLower(name)] = true
		c.cols = append(c.cols, name)
	}
	c.vals = make([]*string, len(c.cols))
	c.buf = make([]string, len(c.cols))
	return nil
}

func (c *csvRows) header() []string { return c.cols }

func (c *csvRows) next() ([]*string, int, error) {
	row, err := c.rows.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		return nil, 0, fmt.Errorf("staging %s: %w", c.file, err)
	}
	line := c.rows.Line()
	if len(row) != len(c.cols) {
		return nil, 0, fmt.Errorf("staging %s:%d: has %d fields, the header has %d", c.file, line, len(row), len(c.cols))
	}
	for i, v := range row {
		if v == "" {
			c.vals[i] = nil
			continue
		}
		c.buf[i] = v
		c.vals[i] = &c.buf[i]
	}
	return c.vals, line, nil
}

// ndjsonRows reads an NDJSON file for staging; its columns are the keys in
// order of first appearance.
type ndjsonRows struct {
	r     *bufio.Reader
	file  string
	line  int
	cols  []string
	index map[string]int
}

func (n *ndjsonRows) header() []string { return n.cols }

func (n *ndjsonRows) next() ([]*string, int, error) {
	for {
		raw, err := n.r.ReadBytes('\n')
		if len(raw) == 0 && err != nil {
			if err != io.EOF {
				err = fmt.Errorf("staging %s: %w", n.file, err)
			}
			return nil, 0, err
		}
		n.line++
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			return nil, 0, fmt.Errorf("staging %s:%d: not a JSON object: %v", n.file, n.line, err)
		}
		vals := make([]*string, len(n.cols), len(n.cols)+len(obj))
		for k, v := range obj {
			i, ok := n.index[k]
			if !ok {
				if strings.EqualFold(k, LineColumn) {
					return nil, 0, fmt.Errorf("staging %s:%d: key %q is reserved for the line", n.file, n.line, k)
				}
				i = len(n.cols)
				n.index[k] = i
				n.cols = append(n.cols, k)
				vals = append(vals, nil)
			}
			s, null, err := scalar(v)
			if err != nil {
				return nil, 0, fmt.Errorf("staging %s:%d: key %q: %v", n.file, n.line, k, err)
			}
			if !null {
				vals[i] = &s
			}
		}
		return vals, n.line, nil
	}
}

// scalar returns a JSON scalar as the text a CSV field would hold.
func scalar(raw json.RawMessage) (s string, null bool, err error) {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", true, nil
	case raw[0] == '"':
		err = json.Unmarshal(raw, &s)
		return s, s == "", err
	case raw[0] == '{' || raw[0] == '[':
		return "", false, errors.New("is an object or array, not a value")
	}
	return string(raw), false, nil
}
