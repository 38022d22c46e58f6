package recordio

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/openchurn/churn/features"
)

// Record is one decoded record: a *features.Account, *features.UsageEvent,
// *features.Ticket, *features.Escalation, *features.SurveyResponse or
// *features.BillingChange.
type Record interface {
	Validate() error
}

// Format is the encoding of an export file.
type Format int

// The supported formats.
const (
	CSV    Format = iota + 1 // comma-separated values with a header row
	NDJSON                   // one JSON object per line
)

func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case NDJSON:
		return "ndjson"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf returns the format that a file name's extension names: .csv, or
// .ndjson and .jsonl.
func FormatOf(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, nil
	case ".ndjson", ".jsonl":
		return NDJSON, nil
	}
	return 0, fmt.Errorf("%s: unknown format (want .csv, .ndjson or .jsonl)", name)
}

// TableOf returns the table a file holds, from its base name without
// extension: usage.csv and usage_events.ndjson hold usage events.
func TableOf(name string) (features.Table, error) {
	base := filepath.Base(name)
	t, err := features.ParseTable(strings.TrimSuffix(base, filepath.Ext(base)))
	if err != nil {
		return "", fmt.Errorf("%s: %w; name the file after its table or give the table", name, err)
	}
	return t, nil
}

// Error is a problem with one line of an export. Its message reads
// "usage.csv:1043: column "at": cannot parse "2024-13-01" as a time";
// Err is a *features.FieldError when one column is at fault.
type Error struct {
	File string
	Line int
	Err  error
	// Row is set when the error is one row's values, after which a
	// Decoder told to SkipInvalid goes on with the next row.
	Row bool
}

// RowOnly reports whether e is one row's values, not the input's shape.
func (e *Error) RowOnly() bool { return e.Row }

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// A Decoder reads the records of one table from a CSV or NDJSON export.
//
// Columns are matched to the canonical columns (features.Table.Columns)
// by name, without regard to case or surrounding space, after the
// mapping's renames. Columns the table does not have are ignored, so that
// exports with extra fields load as they are; Ignored lists them. A CSV
// header that lacks a required column is an error at line 1. Empty fields
// take the zero value, except count, which defaults to 1. Usage events
// without an event_id get one from DeriveEventID.
//
// Every record is validated before Next returns it, so a Decoder yields
// only valid records and stops at the first bad line.
type Decoder struct {
	r       io.Reader
	file    string
	table   features.Table
	format  Format
	rules   *rules
	build   func(*fieldParser) Record
	columns map[string]int // canonical column -> index in fieldParser.vals

	csv     Rows // CSV, or the rows of NewRowsDecoder
	lines   *bufio.Reader
	line    int
	started bool
	err     error // sticky: the decoder stops at the first error

	index       []int          // CSV: field position -> canonical index, or -1
	attrs       map[int]string // CSV: field position -> attribute name
	ignored     []string       // export columns the table does not have
	strict      bool           // columns the table does not have are an error
	skipInvalid bool           // Next goes on after a row's bad values
	fields      fieldParser
}

// NewDecoder returns a Decoder that reads table's records in format from r.
// file names the input in errors; m may be nil for canonical exports.
func NewDecoder(r io.Reader, file string, table features.Table, format Format, m *Mapping) (*Decoder, error) {
	return newDecoder(r, file, table, format, m)
}

func newDecoder(r io.Reader, file string, table features.Table, format Format, m *Mapping) (*Decoder, error) {
	build, ok := builders[table]
	if !ok {
		return nil, fmt.Errorf("%s: unknown table %q", file, table)
	}
	cols := table.Columns()
	d := &Decoder{
		r:       r,
		file:    file,
		table:   table,
		format:  format,
		rules:   m.rulesFor(table),
		build:   build,
		columns: make(map[string]int, len(cols)),
	}
	for i, c := range cols {
		d.columns[c] = i
	}
	d.fields = fieldParser{vals: make([]string, len(cols)), cols: cols, rules: d.rules}
	if err := d.start(); err != nil {
		return nil, err
	}
	return d, nil
}

// Rows is a source of rows of text fields under a header: a CSV file or
// the result of a query.
type Rows interface {
	// Read returns the header on the first call, then one row per call,
	// then io.EOF. The slice may be reused by the next call.
	Read() ([]string, error)
	// Line identifies the row last read: the line it starts on, or its
	// number.
	Line() int
}

// NewCSVRows returns the Rows of a CSV input, read as a Decoder reads CSV
// (RFC 4180, with encoding/csv's records, lines and errors).
func NewCSVRows(r io.Reader) Rows { return newCSVReader(r) }

// NewRowsDecoder returns a Decoder that reads table's records from rows,
// exactly as it would read them from a CSV file with that header and
// those rows: the same columns, mapping, conversions and validation. Empty
// fields are empty values. name names the input in errors, whose lines are
// rows.Line(). The Decoder cannot Rewind.
func NewRowsDecoder(rows Rows, name string, table features.Table, m *Mapping) (*Decoder, error) {
	d, err := newDecoder(nil, name, table, CSV, m)
	if err != nil {
		return nil, err
	}
	d.csv = rows
	return d, nil
}

// start sets d up to read from the beginning of d.r.
func (d *Decoder) start() error {
	switch d.format {
	case CSV:
		d.csv = newCSVReader(d.r) // the field count is checked here, for a clearer message
	case NDJSON:
		d.lines = bufio.NewReaderSize(d.r, 64<<10)
	default:
		return fmt.Errorf("%s: unknown format %v", d.file, d.format)
	}
	d.line, d.started, d.err, d.index, d.attrs, d.ignored = 0, false, nil, nil, nil, nil
	return nil
}

// Rewind starts d again from the first record. The reader d was made with
// must be an io.Seeker positioned, when d was made, at its start (a file or
// a bytes.Reader).
func (d *Decoder) Rewind() error {
	sk, ok := d.r.(io.Seeker) // false for nil: NewRowsDecoder's rows
	if !ok {
		return fmt.Errorf("%s: cannot be read again", d.file)
	}
	if _, err := sk.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading %s again: %w", d.file, err)
	}
	return d.start()
}

// Line returns the line of the last record Next returned: for CSV its last
// line, since a quoted field may span several.
func (d *Decoder) Line() int { return d.line }

// Errorf returns err as an *Error at line of d's file.
func (d *Decoder) Errorf(line int, err error) error {
	return &Error{File: d.file, Line: line, Err: err}
}

// Ignored returns the export columns that match no canonical column (nor,
// for accounts, an attribute). For NDJSON it lists the keys seen so far.
func (d *Decoder) Ignored() []string { return d.ignored }

// RefuseUnknown makes a column that matches no canonical column (nor, for
// accounts, an attribute) an error, at line 1 of a CSV file or at the
// first NDJSON line that has it, rather than ignored: a typo then cannot
// silently leave a column empty.
func (d *Decoder) RefuseUnknown() { d.strict = true }

// AttributePrefix starts the export columns of accounts that hold free
// attributes: attr_country holds the attribute "country".
const AttributePrefix = "attr_"

// attributeName returns the attribute a normalised accounts column holds.
func attributeName(t features.Table, col string) (string, bool) {
	if t != features.Accounts || !strings.HasPrefix(col, AttributePrefix) || len(col) == len(AttributePrefix) {
		return "", false
	}
	return strings.ToLower(col[len(AttributePrefix):]), true
}

// unknownColumn is the error, or nil, for an export column the table does
// not have.
func (d *Decoder) unknownColumn(name string) error {
	if !d.strict {
		return nil
	}
	reason := "is not a column of " + string(d.table)
	if d.table == features.Accounts {
		reason += " (free attributes are named " + AttributePrefix + "NAME)"
	}
	return d.errorf(&features.FieldError{Field: strings.TrimSpace(name), Reason: reason})
}

// Next returns the next record, or io.EOF after the last. Any other error
// is an *Error naming the file and line, and every later call returns it
// again.
func (d *Decoder) Next() (Record, error) {
	if d.err != nil {
		return nil, d.err
	}
	rec, err := d.next()
	var re *Error
	if err != nil && !(d.skipInvalid && errors.As(err, &re) && re.Row) {
		d.err = err
	}
	return rec, err
}

// SkipInvalid makes Next go on after a row whose values fail conversion
// or validation: it still returns that row's error (an *Error with Row
// set), and the next call reads the next row. Errors of the input's shape
// (a malformed CSV record, a bad header, a line that is not a JSON object)
// still stop it. Dry runs use it to report every bad row, not the first.
func (d *Decoder) SkipInvalid() { d.skipInvalid = true }

func (d *Decoder) next() (Record, error) {
	var err error
	if d.format == CSV {
		err = d.readCSV()
	} else {
		err = d.readNDJSON()
	}
	if err != nil {
		return nil, err
	}
	rec := d.build(&d.fields)
	err = d.fields.err
	if err == nil {
		err = rec.Validate()
	}
	if err != nil {
		e := d.errorf(err)
		e.Row = true
		return nil, e
	}
	return rec, nil
}

func (d *Decoder) errorf(err error) *Error {
	return &Error{File: d.file, Line: d.line, Err: err}
}

// readCSV reads the header on the first call, then one row into d.fields.
func (d *Decoder) readCSV() error {
	if !d.started {
		d.started = true
		header, err := d.csv.Read()
		if err == io.EOF {
			return &Error{File: d.file, Line: 1, Err: errors.New("no header row")}
		}
		if err != nil {
			return d.csvError(err)
		}
		d.line = d.csv.Line()
		if err := d.readHeader(header); err != nil {
			return err
		}
	}
	row, err := d.csv.Read()
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return d.csvError(err)
	}
	d.line = d.csv.Line()
	if len(row) != len(d.index) {
		return d.errorf(fmt.Errorf("has %d fields, the header has %d", len(row), len(d.index)))
	}
	d.fields.reset()
	for i, v := range row {
		if c := d.index[i]; c >= 0 {
			d.fields.vals[c] = v
		}
	}
	for i, name := range d.attrs {
		d.fields.setAttribute(name, row[i])
	}
	return nil
}

func (d *Decoder) csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: d.file, Line: pe.Line, Err: pe.Err}
	}
	return fmt.Errorf("reading %s: %w", d.file, err)
}

// readHeader maps the header's columns to canonical ones and checks that
// none is missing or given twice.
func (d *Decoder) readHeader(header []string) error {
	d.index = make([]int, len(header))
	seen := make(map[string]string, len(header))
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // byte-order mark of Excel exports
		}
		col := d.canonical(name)
		c, ok := d.columns[col]
		if !ok {
			d.index[i] = -1
			if attr, ok := attributeName(d.table, col); ok {
				if d.attrs == nil {
					d.attrs = make(map[int]string)
				}
				if _, dup := seen[col]; dup {
					return d.errorf(&features.FieldError{Field: col, Reason: fmt.Sprintf("appears twice in the header (%q and %q)", seen[col], name)})
				}
				seen[col] = name
				d.attrs[i] = attr
				continue
			}
			if err := d.unknownColumn(name); err != nil {
				return err
			}
			d.ignored = append(d.ignored, name)
			continue
		}
		if prev, dup := seen[col]; dup {
			return d.errorf(&features.FieldError{Field: col, Reason: fmt.Sprintf("appears twice in the header (%q and %q)", prev, name)})
		}
		seen[col] = name
		d.index[i] = c
	}
	for _, col := range requiredColumns[d.table] {
		if _, ok := seen[col]; !ok {
			return d.errorf(&features.FieldError{Field: col, Reason: "is missing from the header"})
		}
	}
	return nil
}

// canonical returns the canonical column an export column name stands for
// (or the normalised name itself when nothing renames it).
func (d *Decoder) canonical(name string) string {
	n := normalizeColumn(name)
	if c, ok := d.rules.renames[n]; ok {
		return c
	}
	return n
}

// readNDJSON reads the next non-blank line into d.fields.
func (d *Decoder) readNDJSON() error {
	for {
		line, err := d.readLine()
		if err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		return d.parseObject(line)
	}
}

// readLine returns the next line, however long, without its newline.
func (d *Decoder) readLine() ([]byte, error) {
	line, err := d.lines.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = d.lines.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("reading %s: %w", d.file, err)
		}
		return nil, err
	}
	d.line++
	return line, nil
}

// parseObject reads one JSON object into d.fields. Strings, numbers and
// booleans become the text a CSV field would hold; null is empty.
func (d *Decoder) parseObject(line []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return d.errorf(fmt.Errorf("not a JSON object: %v", err))
	}
	d.fields.reset()
	for key, raw := range obj {
		col := d.canonical(key)
		c, ok := d.columns[col]
		attr, isAttr := attributeName(d.table, col)
		if !ok && !isAttr {
			if err := d.unknownColumn(key); err != nil {
				return err
			}
			d.ignoreKey(key)
			continue
		}
		v, err := jsonText(raw)
		if err != nil {
			return d.errorf(&features.FieldError{Field: col, Reason: err.Error()})
		}
		if isAttr {
			d.fields.setAttribute(attr, v)
			continue
		}
		d.fields.vals[c] = v
	}
	return nil
}

func (d *Decoder) ignoreKey(key string) {
	for _, k := range d.ignored {
		if k == key {
			return
		}
	}
	d.ignored = append(d.ignored, key)
}

// jsonText returns the text of a JSON scalar.
func jsonText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	switch raw[0] {
	case '"':
		// encoding/json replaces invalid UTF-8 and lone surrogates with
		// U+FFFD without a word; refuse them instead, as a CSV field
		// holding them is refused.
		if !utf8.Valid(raw) {
			return "", errors.New("is not valid UTF-8")
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if strings.Count(s, "\ufffd") > strings.Count(string(raw), "\ufffd")+countFoldEscapes(raw) {
			return "", errors.New("holds a lone UTF-16 surrogate escape")
		}
		return s, nil
	case 'n': // null
		return "", nil
	case '{':
		return "", errors.New("cannot use a JSON object as a value")
	case '[':
		return "", errors.New("cannot use a JSON array as a value")
	}
	return string(raw), nil // a number, true or false, exactly as written
}

// countFoldEscapes counts the escapes \ufffd (in any case) in raw, each of
// which decodes to U+FFFD on purpose.
func countFoldEscapes(raw []byte) int {
	return strings.Count(strings.ToLower(string(raw)), `\ufffd`)
}
