package saas

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Table flattens a report into rows of text cells, for CSV and terminal
// output. A report that is a slice of rows gives one row each; a report
// with several sections (UnitEconomics, Funnel, Support) gives the rows of
// every section, named in a leading "section" column. Columns are the
// rows' JSON names, a curve ([]Value) one column per point (logos_0,
// logos_1, …), a map one column per key (tickets_by_category.bug), and
// Absences one "absent" column of "name: reason" pairs. Absent figures
// are empty cells.
func Table(report any) (header []string, rows [][]string, err error) {
	v := reflect.ValueOf(report)
	t := &table{index: map[string]int{}}
	switch {
	case v.Kind() == reflect.Slice:
		err = t.addRows("", v)
	case v.Kind() == reflect.Struct:
		t.column("section")
		for i := 0; i < v.NumField() && err == nil; i++ {
			err = t.addRows(jsonName(v.Type().Field(i)), v.Field(i))
		}
	default:
		err = fmt.Errorf("saas: cannot tabulate a %T", report)
	}
	if err != nil {
		return nil, nil, err
	}
	for i := range t.rows {
		t.rows[i] = append(t.rows[i], make([]string, len(t.header)-len(t.rows[i]))...)
	}
	return t.header, t.rows, nil
}

type table struct {
	header []string
	index  map[string]int
	rows   [][]string
}

func (t *table) column(name string) int {
	i, ok := t.index[name]
	if !ok {
		i = len(t.header)
		t.index[name] = i
		t.header = append(t.header, name)
	}
	return i
}

// addRows adds v, a slice of row structs or one row struct, as rows of
// section (none when "").
func (t *table) addRows(section string, v reflect.Value) error {
	if v.Kind() == reflect.Struct {
		return t.addRow(section, v)
	}
	if v.Kind() != reflect.Slice {
		return fmt.Errorf("saas: cannot tabulate section %s of kind %s", section, v.Kind())
	}
	for i := 0; i < v.Len(); i++ {
		if err := t.addRow(section, v.Index(i)); err != nil {
			return err
		}
	}
	return nil
}

func (t *table) addRow(section string, v reflect.Value) error {
	row := []string{}
	set := func(name, cell string) {
		i := t.column(name)
		if i >= len(row) {
			row = append(row, make([]string, i+1-len(row))...)
		}
		row[i] = cell
	}
	if section != "" {
		set("section", section)
	}
	for i := 0; i < v.NumField(); i++ {
		name, f := jsonName(v.Type().Field(i)), v.Field(i)
		switch x := f.Interface().(type) {
		case Value:
			set(name, x.String())
		case Month:
			set(name, x.String())
		case *Month:
			if x != nil {
				set(name, x.String())
			}
		case string:
			set(name, x)
		case int:
			set(name, strconv.Itoa(x))
		case bool:
			set(name, strconv.FormatBool(x))
		case float64:
			set(name, strconv.FormatFloat(x, 'f', -1, 64))
		case []Value:
			for k, p := range x {
				set(name+"_"+strconv.Itoa(k), p.String())
			}
		case map[string]int:
			for _, k := range sortedKeys(x) {
				set(name+"."+k, strconv.Itoa(x[k]))
			}
		case Absences:
			var parts []string
			for _, k := range sortedKeys(x) {
				parts = append(parts, k+": "+x[k])
			}
			set(name, strings.Join(parts, "; "))
		default:
			return fmt.Errorf("saas: cannot tabulate field %s of type %T", name, x)
		}
	}
	t.rows = append(t.rows, row)
	return nil
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
