package table

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/openchurn/churn/models"
)

// Table is a CSV file held as strings, with the line each record started
// on for error messages.
type Table struct {
	// Name identifies the table in errors, usually its file path.
	Name    string
	Header  []string
	Records [][]string
	Lines   []int
}

// Read reads a CSV table with a header row from r. Every record must have
// as many fields as the header, and column names must be unique and
// non-empty. name is used in error messages.
func Read(ctx context.Context, r io.Reader, name string) (*Table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, want a header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t := &Table{Name: name, Header: header}
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		h = strings.TrimPrefix(strings.TrimSpace(h), "\ufeff") // tolerate a byte order mark
		if h == "" || seen[h] {
			return nil, fmt.Errorf("%s: line 1: column %d: name %q is empty or repeated", name, i+1, h)
		}
		seen[h] = true
		header[i] = h
	}
	for {
		if len(t.Records)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// csv.ParseError already names the line and column.
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		t.Records = append(t.Records, rec)
		t.Lines = append(t.Lines, line)
	}
	return t, nil
}

// Column returns the index of the named column, or −1.
func (t *Table) Column(name string) int { return slices.Index(t.Header, name) }

// cellError reports a bad cell with the file, line, column and reason.
func (t *Table) cellError(row, col int, format string, args ...any) error {
	return fmt.Errorf("%s: line %d: column %q: %s", t.Name, t.Lines[row], t.Header[col], fmt.Sprintf(format, args...))
}

// parseNumber reads a numeric cell: blank is missing (NaN), and anything
// but a finite number is an error.
func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}

// Spec says which columns of a training table play which part.
type Spec struct {
	// Label names the label column; it is required.
	Label string
	// Positive is the label value meaning 1; every other non-blank value
	// means 0. Numbers match by value, so "1" names 1.0 too. When empty,
	// labels must be the numbers 0 and 1 in any spelling (0, 1.0, 1e0) or
	// one of true/yes/y/t (1) and false/no/n/f (0), in any case.
	Positive string
	// ID names an optional identifier column, which is not a feature.
	ID string
	// Drop lists further columns that are not features (leaks, free text).
	Drop []string
}

var (
	truthy = []string{"true", "yes", "y", "t"}
	falsy  = []string{"false", "no", "n", "f"}
)

// errUnrecognisedLabel is label's error for a value that is no boolean.
var errUnrecognisedLabel = errors.New("not a recognised boolean")

// label parses one label cell under the spec.
func (s Spec) label(v string) (float64, error) {
	v = strings.TrimSpace(v)
	num, numErr := strconv.ParseFloat(v, 64)
	switch {
	case v == "":
		return 0, errors.New("label is blank")
	case s.Positive != "":
		if pos, err := strconv.ParseFloat(strings.TrimSpace(s.Positive), 64); v == s.Positive || err == nil && numErr == nil && num == pos {
			return 1, nil
		}
		return 0, nil
	case numErr == nil && (num == 0 || num == 1):
		return num, nil
	case slices.Contains(truthy, strings.ToLower(v)):
		return 1, nil
	case slices.Contains(falsy, strings.ToLower(v)):
		return 0, nil
	}
	return 0, fmt.Errorf("label %q is %w", v, errUnrecognisedLabel)
}

// distinct lists the distinct non-blank values of column j, quoted and
// sorted, at most ten of them and then how many more, for error messages.
func (t *Table) distinct(j int) string {
	seen := map[string]bool{}
	for _, rec := range t.Records {
		if v := strings.TrimSpace(rec[j]); v != "" {
			seen[strconv.Quote(v)] = true
		}
	}
	vs := slices.Sorted(maps.Keys(seen))
	if len(vs) > 10 {
		return strings.Join(vs[:10], ", ") + fmt.Sprintf(" and %d more", len(vs)-10)
	}
	return strings.Join(vs, ", ")
}

// Dataset builds a labelled dataset from the table, inferring each
// feature's kind as described in the package documentation. It also
// returns the id of every row: the ID column's value, or the 1-based row
// number when the spec has no ID column.
func (t *Table) Dataset(ctx context.Context, s Spec) (*models.Dataset, []string, error) {
	labelCol := t.Column(s.Label)
	if labelCol < 0 {
		return nil, nil, fmt.Errorf("%s: no label column %q", t.Name, s.Label)
	}
	skip := map[int]bool{labelCol: true}
	for _, name := range append([]string{s.ID}, s.Drop...) {
		if name == "" {
			continue
		}
		j := t.Column(name)
		if j < 0 {
			return nil, nil, fmt.Errorf("%s: no column %q", t.Name, name)
		}
		skip[j] = true
	}
	var schema models.Schema
	var cols []int
	for j, name := range t.Header {
		if skip[j] {
			continue
		}
		schema = append(schema, t.inferFeature(j, name))
		cols = append(cols, j)
	}
	if len(schema) == 0 {
		return nil, nil, fmt.Errorf("%s: no feature columns left", t.Name)
	}
	d, ids, err := t.encode(ctx, schema, cols, s.ID)
	if err != nil {
		return nil, nil, err
	}
	if d.Labels, err = t.Labels(s); err != nil {
		return nil, nil, err
	}
	pos := 0
	for _, y := range d.Labels {
		pos += int(y)
	}
	if pos == 0 || pos == len(d.Labels) {
		hint := "name the positive value with --positive"
		if s.Positive != "" {
			hint = fmt.Sprintf("--positive %q matches %d of %d rows", s.Positive, pos, len(d.Labels))
		}
		return nil, nil, fmt.Errorf("%s: column %q: every label is %d, and a model needs both outcomes; the column holds %s; %s",
			t.Name, s.Label, min(pos, 1), t.distinct(labelCol), hint)
	}
	return d, ids, nil
}

// Labels parses the spec's label column into 0/1 values.
func (t *Table) Labels(s Spec) ([]float64, error) {
	j := t.Column(s.Label)
	if j < 0 {
		return nil, fmt.Errorf("%s: no label column %q", t.Name, s.Label)
	}
	y := make([]float64, len(t.Records))
	for i, rec := range t.Records {
		var err error
		if y[i], err = s.label(rec[j]); err != nil {
			if errors.Is(err, errUnrecognisedLabel) {
				return nil, t.cellError(i, j, "%v; the column holds %s; name the positive value with --positive", err, t.distinct(j))
			}
			return nil, t.cellError(i, j, "%v", err)
		}
	}
	return y, nil
}

// inferFeature decides the kind of column j and, for a categorical
// column, collects its sorted categories.
func (t *Table) inferFeature(j int, name string) models.Feature {
	numeric := true
	cats := make(map[string]bool)
	for _, rec := range t.Records {
		v := strings.TrimSpace(rec[j])
		if v == "" {
			continue
		}
		cats[v] = true
		if numeric {
			if _, err := parseNumber(v); err != nil {
				numeric = false
			}
		}
	}
	if numeric {
		return models.Feature{Name: name, Kind: models.Numeric}
	}
	f := models.Feature{Name: name, Kind: models.Categorical}
	for c := range cats {
		f.Categories = append(f.Categories, c)
	}
	slices.Sort(f.Categories)
	return f
}

// Apply builds an unlabelled dataset with the given schema from the table,
// for scoring with a fitted model. Every feature of the schema must be a
// column of the table; other columns are ignored. Categories the schema
// does not know become missing. The ids are the idColumn's values when the
// table has that column, and 1-based row numbers otherwise.
func (t *Table) Apply(ctx context.Context, schema models.Schema, idColumn string) (*models.Dataset, []string, error) {
	cols := make([]int, len(schema))
	for k, f := range schema {
		if cols[k] = t.Column(f.Name); cols[k] < 0 {
			return nil, nil, fmt.Errorf("%s: no column %q, which the model needs", t.Name, f.Name)
		}
	}
	if t.Column(idColumn) < 0 {
		idColumn = ""
	}
	return t.encode(ctx, schema, cols, idColumn)
}

// encode converts the table's columns cols into a dataset with schema,
// which gives their kinds and categories, and collects row ids.
func (t *Table) encode(ctx context.Context, schema models.Schema, cols []int, idColumn string) (*models.Dataset, []string, error) {
	n := len(t.Records)
	d := &models.Dataset{Schema: schema, Columns: make([][]float64, len(schema))}
	for k, f := range schema {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		j := cols[k]
		col := make([]float64, n)
		var codes map[string]int
		if f.Kind == models.Categorical {
			codes = make(map[string]int, len(f.Categories))
			for c, name := range f.Categories {
				codes[name] = c
			}
		}
		for i, rec := range t.Records {
			if f.Kind == models.Numeric {
				v, err := parseNumber(rec[j])
				if err != nil {
					return nil, nil, t.cellError(i, j, "%v", err)
				}
				col[i] = v
				continue
			}
			if c, ok := codes[strings.TrimSpace(rec[j])]; ok {
				col[i] = float64(c)
			} else {
				col[i] = math.NaN()
			}
		}
		d.Columns[k] = col
	}
	ids := make([]string, n)
	idCol := t.Column(idColumn)
	for i, rec := range t.Records {
		if idCol >= 0 {
			ids[i] = rec[idCol]
		} else {
			ids[i] = strconv.Itoa(i + 1)
		}
	}
	return d, ids, nil
}
