package recordio

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
)

func TestDateLayout(t *testing.T) {
	tests := []struct {
		format, layout, err string
	}{
		{format: "M/D/YYYY", layout: "1/2/2006"},
		{format: "DD.MM.YY HH:mm:ss", layout: "02.01.06 15:04:05"},
		{format: "YYYY-MM-DDTHH:mm:ssZ", layout: "2006-01-02T15:04:05Z07:00"},
		{format: "MMM D, YYYY h:mm A", layout: "Jan 2, 2006 3:04 PM"},
		{format: "2006-01-02", err: `digit '2': write dates with tokens such as YYYY, MM, DD, HH, mm, ss`},
		{format: "", err: "is empty"},
	}
	for _, tt := range tests {
		layout, err := dateLayout(tt.format)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("dateLayout(%q) error = %v, want %q", tt.format, err, tt.err)
			}
			continue
		}
		if err != nil || layout != tt.layout {
			t.Errorf("dateLayout(%q) = %q, %v; want %q", tt.format, layout, err, tt.layout)
		}
	}
}

func TestParseMappingErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "colums: {a: account_id}\n", "field colums not found in type recordio.Mapping"},
		{"unknown table key", "tables: {accounts: {formats: [x]}}\n", "field formats not found in type recordio.TableMapping"},
		{"unknown table", "tables: {orders: {}}\n", `tables: unknown table "orders"`},
		{"unknown column", "columns: {Foo: bar}\n", `columns: "Foo" -> "bar": no table has a column "bar"`},
		{"column of another table", "tables: {accounts: {columns: {When: at}}}\n", `tables: accounts: columns: "When" -> "at": the table has no column "at"`},
		{"bad format", "date_formats: [1/2/2006]\n", `date format "1/2/2006": digit '1'`},
		{"word both ways", "true_words: [Y]\nfalse_words: [y]\n", `is both a true word and a false word`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMapping(strings.NewReader(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestMappedExport decodes the CRM-style export under testdata/ingest/mapped:
// renamed columns, M/D/YYYY dates and Y/N flags, unchanged.
func TestMappedExport(t *testing.T) {
	m, err := LoadMapping(filepath.Join("..", "..", "testdata", "ingest", "mapped", "mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		input string
		table features.Table
		want  []Record
	}{
		{
			input: "Customer ID,Company,Tier,Signup Date,Monthly Revenue,Rep,Region\nc-100,Hooli,enterprise,3/7/2024,5000,carol,EMEA\n",
			table: features.Accounts,
			want:  []Record{&features.Account{AccountID: "c-100", Name: "Hooli", Segment: "enterprise", CreatedAt: date(2024, 3, 7, 0, 0, 0, 0), MRR: 5000, Owner: "carol"}},
		},
		{
			input: "Case Number,customer id,Opened,Closed,Urgency,Escalated?\n9001,c-100,3/8/2024 9:05,3/9/2024 17:30,high,Y\n9002,c-200,2024-01-02,,normal,n\n",
			table: features.Tickets,
			want: []Record{
				&features.Ticket{TicketID: "9001", AccountID: "c-100", OpenedAt: date(2024, 3, 8, 9, 5, 0, 0), ResolvedAt: date(2024, 3, 9, 17, 30, 0, 0), Priority: "high", Escalated: true},
				&features.Ticket{TicketID: "9002", AccountID: "c-200", OpenedAt: date(2024, 1, 2, 0, 0, 0, 0), Priority: "normal"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(string(tt.table), func(t *testing.T) {
			got, err := decodeAll(t, tt.input, tt.table, CSV, m, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
