package table_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/table"
)

func read(t *testing.T, csv string) *table.Table {
	t.Helper()
	tb, err := table.Read(context.Background(), strings.NewReader(csv), "accounts.csv")
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

const accounts = `account_id,seats,plan,nps,churned
a1,10,pro,9,no
a2, ,free,,yes
a3,3.5,pro,-1,NO
a4,7,enterprise,4,Yes
`

func TestDatasetInfersKindsAndMissing(t *testing.T) {
	d, ids, err := read(t, accounts).Dataset(context.Background(), table.Spec{Label: "churned", ID: "account_id"})
	if err != nil {
		t.Fatal(err)
	}
	wantSchema := models.Schema{
		{Name: "seats", Kind: models.Numeric},
		{Name: "plan", Kind: models.Categorical, Categories: []string{"enterprise", "free", "pro"}},
		{Name: "nps", Kind: models.Numeric},
	}
	if !d.Schema.Equal(wantSchema) {
		t.Errorf("schema = %+v, want %+v", d.Schema, wantSchema)
	}
	nan := math.NaN()
	for j, want := range [][]float64{{10, nan, 3.5, 7}, {2, 1, 2, 0}, {9, nan, -1, 4}} {
		for i, v := range d.Columns[j] {
			if v != want[i] && !(math.IsNaN(v) && math.IsNaN(want[i])) {
				t.Errorf("column %s row %d = %v, want %v", d.Schema[j].Name, i, v, want[i])
			}
		}
	}
	if want := []float64{0, 1, 0, 1}; !reflect.DeepEqual(d.Labels, want) {
		t.Errorf("labels = %v, want %v", d.Labels, want)
	}
	if want := []string{"a1", "a2", "a3", "a4"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
}

func TestApplyMapsUnseenCategoriesToMissing(t *testing.T) {
	train, _, err := read(t, accounts).Dataset(context.Background(), table.Spec{Label: "churned", ID: "account_id"})
	if err != nil {
		t.Fatal(err)
	}
	// Columns in another order, an extra column, no id column, a new plan.
	score := read(t, "nps,extra,plan,seats\n5,x,startup,2\n,y,pro,\n")
	d, ids, err := score.Apply(context.Background(), train.Schema, "account_id")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Schema.Equal(train.Schema) {
		t.Fatalf("schema = %+v", d.Schema)
	}
	if got := d.Columns[1]; !math.IsNaN(got[0]) || got[1] != 2 {
		t.Errorf("plan codes = %v, want [NaN 2]", got)
	}
	if d.Columns[0][0] != 2 || d.Columns[2][0] != 5 || !math.IsNaN(d.Columns[0][1]) {
		t.Errorf("numeric columns = %v, %v", d.Columns[0], d.Columns[2])
	}
	if want := []string{"1", "2"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want row numbers %v", ids, want)
	}
}

func TestBadInputErrorsNameFileLineAndColumn(t *testing.T) {
	schema := models.Schema{{Name: "seats", Kind: models.Numeric}, {Name: "plan", Kind: models.Categorical, Categories: []string{"pro"}}}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"number expected", func() error {
			_, _, err := read(t, "seats,plan\n1,pro\nmany,pro\n").Apply(context.Background(), schema, "")
			return err
		}, `accounts.csv: line 3: column "seats": "many" is not a finite number`},
		{"infinite number", func() error {
			_, _, err := read(t, "seats,plan\nInf,pro\n").Apply(context.Background(), schema, "")
			return err
		}, `line 2: column "seats": "Inf" is not a finite number`},
		{"missing feature column", func() error {
			_, _, err := read(t, "plan\npro\n").Apply(context.Background(), schema, "")
			return err
		}, `accounts.csv: no column "seats", which the model needs`},
		{"blank label", func() error {
			_, _, err := read(t, "seats,churned\n1,yes\n2,\n").Dataset(context.Background(), table.Spec{Label: "churned"})
			return err
		}, `line 3: column "churned": label is blank`},
		{"unrecognised label", func() error {
			_, _, err := read(t, "seats,churned\n1,maybe\n2,yes\n3,no\n").Dataset(context.Background(), table.Spec{Label: "churned"})
			return err
		}, `line 2: column "churned": label "maybe" is not a recognised boolean; the column holds "maybe", "no", "yes"; name the positive value with --positive`},
		{"wrong positive value", func() error {
			_, _, err := read(t, "seats,churned\n1,Yes\n2,No\n3,No\n").Dataset(context.Background(), table.Spec{Label: "churned", Positive: "yes"})
			return err
		}, `accounts.csv: column "churned": every label is 0, and a model needs both outcomes; the column holds "No", "Yes"; --positive "yes" matches 0 of 3 rows`},
		{"one outcome only", func() error {
			_, _, err := read(t, "seats,churned\n1,0.0\n2,0\n").Dataset(context.Background(), table.Spec{Label: "churned"})
			return err
		}, `column "churned": every label is 0, and a model needs both outcomes; the column holds "0", "0.0"; name the positive value with --positive`},
		{"no label column", func() error {
			_, _, err := read(t, "seats\n1\n").Dataset(context.Background(), table.Spec{Label: "churned"})
			return err
		}, `no label column "churned"`},
		{"unknown drop column", func() error {
			_, _, err := read(t, "seats,churned\n1,yes\n").Dataset(context.Background(), table.Spec{Label: "churned", Drop: []string{"ghost"}})
			return err
		}, `no column "ghost"`},
		{"ragged record", func() error {
			_, err := table.Read(context.Background(), strings.NewReader("a,b\n1,2\n3\n"), "accounts.csv")
			return err
		}, "accounts.csv: record on line 3: wrong number of fields"},
		{"repeated column", func() error {
			_, err := table.Read(context.Background(), strings.NewReader("a,a\n1,2\n"), "accounts.csv")
			return err
		}, `column 2: name "a" is empty or repeated`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPositiveValue(t *testing.T) {
	tb := read(t, "x,outcome\n1,won\n2,lost\n3,won\n")
	y, err := tb.Labels(table.Spec{Label: "outcome", Positive: "won"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 0, 1}; !reflect.DeepEqual(y, want) {
		t.Errorf("labels = %v, want %v", y, want)
	}
}

// TestLabelSpellings checks the spellings of booleans analysts' exports
// use: pandas writes 0.0/1.0 and True/False, surveys yes/no.
func TestLabelSpellings(t *testing.T) {
	for _, tc := range []struct {
		cells    string
		positive string
		want     []float64
	}{
		{"0.0 1.0 1.0 0.0", "", []float64{0, 1, 1, 0}},
		{"0 1 1e0 0.00", "", []float64{0, 1, 1, 0}},
		{"True False TRUE false", "", []float64{1, 0, 1, 0}},
		{"yes no Y n", "", []float64{1, 0, 1, 0}},
		{"t f T F", "", []float64{1, 0, 1, 0}},
		{"1.0 0.0 1 2", "1", []float64{1, 0, 1, 0}}, // numbers match --positive by value
		{"won lost won won", "won", []float64{1, 0, 1, 1}},
	} {
		csv := "x,y\n"
		for i, c := range strings.Fields(tc.cells) {
			csv += fmt.Sprintf("%d,%s\n", i, c)
		}
		y, err := read(t, csv).Labels(table.Spec{Label: "y", Positive: tc.positive})
		if err != nil {
			t.Errorf("%s (positive %q): %v", tc.cells, tc.positive, err)
			continue
		}
		if !reflect.DeepEqual(y, tc.want) {
			t.Errorf("%s (positive %q): labels %v, want %v", tc.cells, tc.positive, y, tc.want)
		}
	}
	if _, err := read(t, "x,y\n1,2\n").Labels(table.Spec{Label: "y"}); err == nil || !strings.Contains(err.Error(), `label "2" is not a recognised boolean`) {
		t.Errorf("label 2: err = %v, want not a recognised boolean", err)
	}
}
