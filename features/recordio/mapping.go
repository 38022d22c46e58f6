package recordio

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openchurn/churn/features"
)

// Mapping describes how a team's exports differ from the canonical
// columns: renamed columns, extra date formats and extra boolean words.
// The top level applies to every table; entries under Tables add to it for
// one table and win where both rename the same export column.
//
// A mapping file is YAML:
//
//	columns:              # export column -> canonical column, any table
//	  Customer ID: account_id
//	date_formats: [M/D/YYYY, "M/D/YYYY H:mm"]
//	true_words: [Y, active]
//	false_words: [N, inactive]
//	tables:
//	  usage_events:       # or an alias such as "usage"
//	    columns:
//	      Timestamp: at
//
// Date formats use the tokens YYYY, YY, MMMM, MMM, MM, M, DD, D, HH, H, hh,
// h, mm, m, ss, s, A (AM/PM), a (am/pm), Z (-07:00 or Z) and ZZ (-0700);
// every other character other than a digit stands for itself. Single-letter
// tokens accept one or two digits, so M/D/YYYY reads both 3/7/2024 and
// 12/31/2024. A fraction of a second after the seconds is always accepted.
// Times without a zone are UTC. Mapping formats are tried before the
// defaults (RFC 3339, YYYY-MM-DD and YYYY-MM-DD HH:mm:ss).
//
// Boolean words add to the defaults (true/false, 1/0, yes/no) and match
// without regard to case. Unknown keys are an error, so a typo in a
// mapping file is caught rather than silently ignored.
type Mapping struct {
	Columns     map[string]string         `yaml:"columns"`
	DateFormats []string                  `yaml:"date_formats"`
	TrueWords   []string                  `yaml:"true_words"`
	FalseWords  []string                  `yaml:"false_words"`
	Tables      map[string]TableMapping   `yaml:"tables"`
	tables      map[features.Table]*rules // compiled per table by compile
}

// TableMapping holds the parts of a Mapping that apply to one table.
type TableMapping struct {
	Columns     map[string]string `yaml:"columns"`
	DateFormats []string          `yaml:"date_formats"`
	TrueWords   []string          `yaml:"true_words"`
	FalseWords  []string          `yaml:"false_words"`
}

// rules is a Mapping compiled for one table.
type rules struct {
	renames    map[string]string // normalised export name -> canonical column
	layouts    []string          // Go layouts, tried before the defaults
	trueWords  map[string]bool   // lower-cased
	falseWords map[string]bool
}

// LoadMapping reads and checks the mapping file at path.
func LoadMapping(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading mapping: %w", err)
	}
	defer f.Close()
	m, err := ParseMapping(f)
	if err != nil {
		return nil, fmt.Errorf("loading mapping %s: %w", path, err)
	}
	return m, nil
}

// ParseMapping reads a mapping in YAML from r and checks it: unknown keys,
// unknown tables, renames to columns the table does not have and date
// formats that cannot be translated are errors.
func ParseMapping(r io.Reader) (*Mapping, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && err != io.EOF {
		return nil, err
	}
	if err := m.compile(); err != nil {
		return nil, err
	}
	return &m, nil
}

// compile checks m and builds the rules of every table.
func (m *Mapping) compile() error {
	perTable := make(map[features.Table]TableMapping, len(m.Tables))
	for name, tm := range m.Tables {
		t, err := features.ParseTable(name)
		if err != nil {
			return fmt.Errorf("tables: %w", err)
		}
		if _, dup := perTable[t]; dup {
			return fmt.Errorf("tables: %q names table %s a second time", name, t)
		}
		perTable[t] = tm
	}
	for export, canonical := range m.Columns {
		if !anyTableHas(canonical) {
			return fmt.Errorf("columns: %q -> %q: no table has a column %q", export, canonical, canonical)
		}
	}
	m.tables = make(map[features.Table]*rules, len(features.AllTables))
	for _, t := range features.AllTables {
		tm := perTable[t]
		r := &rules{
			renames:    make(map[string]string, len(m.Columns)+len(tm.Columns)),
			trueWords:  words(defaultTrueWords, m.TrueWords, tm.TrueWords),
			falseWords: words(defaultFalseWords, m.FalseWords, tm.FalseWords),
		}
		for export, canonical := range m.Columns {
			r.renames[normalizeColumn(export)] = canonical
		}
		for export, canonical := range tm.Columns {
			if !hasColumn(t, canonical) {
				return fmt.Errorf("tables: %s: columns: %q -> %q: the table has no column %q", t, export, canonical, canonical)
			}
			r.renames[normalizeColumn(export)] = canonical
		}
		for w := range r.trueWords {
			if r.falseWords[w] {
				return fmt.Errorf("%s: %q is both a true word and a false word", t, w)
			}
		}
		// Table formats first: they are the more specific.
		for _, f := range append(append([]string(nil), tm.DateFormats...), m.DateFormats...) {
			layout, err := dateLayout(f)
			if err != nil {
				return fmt.Errorf("date format %q: %w", f, err)
			}
			r.layouts = append(r.layouts, layout)
		}
		m.tables[t] = r
	}
	return nil
}

// rulesFor returns the compiled rules for table t; a nil Mapping has the
// default rules.
func (m *Mapping) rulesFor(t features.Table) *rules {
	if m == nil || m.tables == nil {
		return defaultRules
	}
	return m.tables[t]
}

var (
	defaultTrueWords  = []string{"true", "1", "yes"}
	defaultFalseWords = []string{"false", "0", "no"}
	defaultRules      = &rules{
		trueWords:  words(defaultTrueWords),
		falseWords: words(defaultFalseWords),
	}
)

func words(lists ...[]string) map[string]bool {
	set := make(map[string]bool)
	for _, l := range lists {
		for _, w := range l {
			set[strings.ToLower(strings.TrimSpace(w))] = true
		}
	}
	return set
}

// normalizeColumn is how export column names are compared: without
// surrounding space and without regard to case.
func normalizeColumn(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

func hasColumn(t features.Table, col string) bool {
	if _, ok := attributeName(t, col); ok {
		return true
	}
	for _, c := range t.Columns() {
		if c == col {
			return true
		}
	}
	return false
}

func anyTableHas(col string) bool {
	for _, t := range features.AllTables {
		if hasColumn(t, col) {
			return true
		}
	}
	return false
}

// dateTokens maps the date-format tokens to Go layout elements, longest
// token first so that MM is not read as two Ms.
var dateTokens = []struct{ token, layout string }{
	{"YYYY", "2006"}, {"YY", "06"},
	{"MMMM", "January"}, {"MMM", "Jan"}, {"MM", "01"}, {"M", "1"},
	{"DD", "02"}, {"D", "2"},
	{"HH", "15"}, {"H", "15"}, {"hh", "03"}, {"h", "3"},
	{"mm", "04"}, {"m", "4"},
	{"ss", "05"}, {"s", "5"},
	{"A", "PM"}, {"a", "pm"},
	{"ZZ", "-0700"}, {"Z", "Z07:00"},
}

// dateLayout translates a date format such as M/D/YYYY into a Go layout.
// Digits are refused: in a Go layout they would be read as elements, and a
// format that holds them is most likely a Go layout written by mistake.
func dateLayout(format string) (string, error) {
	if format == "" {
		return "", fmt.Errorf("is empty")
	}
	var b strings.Builder
next:
	for i := 0; i < len(format); {
		c := format[i]
		if c >= '0' && c <= '9' {
			return "", fmt.Errorf("digit %q: write dates with tokens such as YYYY, MM, DD, HH, mm, ss", c)
		}
		for _, tok := range dateTokens {
			if strings.HasPrefix(format[i:], tok.token) {
				b.WriteString(tok.layout)
				i += len(tok.token)
				continue next
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}
