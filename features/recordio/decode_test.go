package recordio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

func decodeAll(t *testing.T, input string, table features.Table, format Format, m *Mapping, strict bool) ([]Record, error) {
	t.Helper()
	d, err := NewDecoder(strings.NewReader(input), "in."+format.String(), table, format, m)
	if err != nil {
		t.Fatal(err)
	}
	if strict {
		d.RefuseUnknown()
	}
	var recs []Record
	for {
		rec, err := d.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, rec)
	}
}

func date(y int, m time.Month, d, h, min, s, ns int) time.Time {
	return time.Date(y, m, d, h, min, s, ns, time.UTC)
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		table  features.Table
		format Format
		input  string
		want   []Record
	}{
		{
			name:   "csv with extra column, defaults and derived id",
			table:  features.UsageEvents,
			format: CSV,
			input:  "Account_ID , feature,at,count,extra\r\nacme,reports,2024-03-01T09:00:00Z,,x\nacme, exports ,2024-03-02,2,y\n",
			want: []Record{
				&features.UsageEvent{AccountID: "acme", Feature: "reports", At: date(2024, 3, 1, 9, 0, 0, 0), Count: 1},
				&features.UsageEvent{AccountID: "acme", Feature: "exports", At: date(2024, 3, 2, 0, 0, 0, 0), Count: 2},
			},
		},
		{
			name:   "ndjson scalars, null and blank lines",
			table:  features.Tickets,
			format: NDJSON,
			input:  "{\"ticket_id\":7,\"account_id\":\"a\",\"opened_at\":\"2024-01-01 10:00:00\",\"resolved_at\":null,\"priority\":\"low\",\"csat\":5,\"escalated\":true}\n\n  \n{\"ticket_id\":\"8\",\"account_id\":\"a\",\"opened_at\":\"2024-01-02T10:00:00+02:00\",\"priority\":\"urgent\",\"escalated\":\"no\"}",
			want: []Record{
				&features.Ticket{TicketID: "7", AccountID: "a", OpenedAt: date(2024, 1, 1, 10, 0, 0, 0), Priority: "low", CSAT: 5, Escalated: true},
				&features.Ticket{TicketID: "8", AccountID: "a", OpenedAt: date(2024, 1, 2, 8, 0, 0, 0), Priority: "urgent"},
			},
		},
		{
			name:   "database timestamps in csv and ndjson alike",
			table:  features.UsageEvents,
			format: NDJSON,
			input:  `{"account_id":"a","feature":"f","at":"2020-01-21 03:01:47"}` + "\n" + `{"account_id":"a","feature":"f","at":"2020-01-21 03:01:47.5+01"}`,
			want: []Record{
				&features.UsageEvent{AccountID: "a", Feature: "f", At: date(2020, 1, 21, 3, 1, 47, 0), Count: 1},
				&features.UsageEvent{AccountID: "a", Feature: "f", At: date(2020, 1, 21, 2, 1, 47, 500000000), Count: 1},
			},
		},
		{
			name:   "database timestamps in csv",
			table:  features.UsageEvents,
			format: CSV,
			input:  "account_id,feature,at\na,f,2020-01-21 03:01:47\na,f,2020-01-21T03:01:47.250 UTC\n",
			want: []Record{
				&features.UsageEvent{AccountID: "a", Feature: "f", At: date(2020, 1, 21, 3, 1, 47, 0), Count: 1},
				&features.UsageEvent{AccountID: "a", Feature: "f", At: date(2020, 1, 21, 3, 1, 47, 250000000), Count: 1},
			},
		},
		{
			name:   "account attributes in csv: lowercased names, empty is absent",
			table:  features.Accounts,
			format: CSV,
			input:  "account_id,created_at,ATTR_Country, attr_channel ,attr_industry\na,2024-01-01,IN,ads,\nb,2024-01-01,,,\n",
			want: []Record{
				&features.Account{AccountID: "a", CreatedAt: date(2024, 1, 1, 0, 0, 0, 0), Attributes: map[string]string{"country": "IN", "channel": "ads"}},
				&features.Account{AccountID: "b", CreatedAt: date(2024, 1, 1, 0, 0, 0, 0)},
			},
		},
		{
			name:   "account attributes in ndjson",
			table:  features.Accounts,
			format: NDJSON,
			input:  `{"account_id":"a","created_at":"2024-01-01","attr_country":"DE","attr_seats_band":10,"attr_x":null}`,
			want: []Record{
				&features.Account{AccountID: "a", CreatedAt: date(2024, 1, 1, 0, 0, 0, 0), Attributes: map[string]string{"country": "DE", "seats_band": "10"}},
			},
		},
		{
			name:   "quoted fields with commas and newlines",
			table:  features.Escalations,
			format: CSV,
			input:  "escalation_id,account_id,at,direction,severity,note\nx1,a,2024-01-01T00:00:00.123456Z,negative,high,\"line one,\nline two\"\n",
			want: []Record{
				&features.Escalation{EscalationID: "x1", AccountID: "a", At: date(2024, 1, 1, 0, 0, 0, 123456000), Direction: "negative", Severity: "high", Note: "line one,\nline two"},
			},
		},
		{
			name:   "spend by month or by a date in it",
			table:  features.Spends,
			format: CSV,
			input:  "month,channel,kind,amount\n2024-03,ads,marketing,1200.5\n2024-04-17,,sales,300\n",
			want: []Record{
				&features.Spend{Month: date(2024, 3, 1, 0, 0, 0, 0), Channel: "ads", Kind: "marketing", Amount: 1200.5},
				&features.Spend{Month: date(2024, 4, 1, 0, 0, 0, 0), Kind: "sales", Amount: 300},
			},
		},
		{
			name:   "ticket agent replies",
			table:  features.Tickets,
			format: CSV,
			input:  "ticket_id,account_id,opened_at,priority,agent_replies\nt,a,2024-01-01,low,2\n",
			want:   []Record{&features.Ticket{TicketID: "t", AccountID: "a", OpenedAt: date(2024, 1, 1, 0, 0, 0, 0), Priority: "low", AgentReplies: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAll(t, tt.input, tt.table, tt.format, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tt.want {
				if e, ok := w.(*features.UsageEvent); ok && e.EventID == "" {
					e.EventID = DeriveEventID(e)
				}
				if i < len(got) && !reflect.DeepEqual(got[i], w) {
					t.Errorf("record %d:\ngot  %+v\nwant %+v", i, got[i], w)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d records, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		table  features.Table
		format Format
		input  string
		want   string
	}{
		{"bad month", features.UsageEvents, CSV,
			"account_id,feature,at\na,f,2024-12-01\na,f,2024-13-01\n",
			`in.csv:3: column "at": cannot parse "2024-13-01" as a time`},
		{"missing required column", features.UsageEvents, CSV,
			"account_id,feature,when\na,f,2024-01-01\n",
			`in.csv:1: column "at": is missing from the header`},
		{"column twice after rename", features.Accounts, CSV,
			"account_id,ACCOUNT_ID,created_at\n",
			`in.csv:1: column "account_id": appears twice in the header ("account_id" and "ACCOUNT_ID")`},
		{"empty input", features.Accounts, CSV, "", `in.csv:1: no header row`},
		{"field count", features.Accounts, CSV,
			"account_id,created_at\na,2024-01-01,extra\n",
			`in.csv:2: has 3 fields, the header has 2`},
		{"bare quote", features.Accounts, CSV,
			"account_id,created_at\na\"b,2024-01-01\n",
			`in.csv:2: bare " in non-quoted-field`},
		{"validation", features.SurveyResponses, CSV,
			"response_id,account_id,at,kind,score\nr,a,2024-01-01,nps,11\n",
			`in.csv:2: column "score": 11 is not between 0 and 10 for a nps survey`},
		{"bad integer", features.Accounts, CSV,
			"account_id,created_at,seats\na,2024-01-01,2.5\n",
			`in.csv:2: column "seats": cannot parse "2.5" as an integer`},
		{"bad boolean", features.Tickets, NDJSON,
			`{"ticket_id":"t","account_id":"a","opened_at":"2024-01-01","priority":"low","escalated":"maybe"}`,
			`in.ndjson:1: column "escalated": cannot parse "maybe" as a boolean`},
		{"not an object", features.Tickets, NDJSON,
			"\n[1,2]\n",
			`in.ndjson:2: not a JSON object: json: cannot unmarshal array into Go value of type map[string]json.RawMessage`},
		{"nested value", features.Escalations, NDJSON,
			`{"escalation_id":{"a":1}}`,
			`in.ndjson:1: column "escalation_id": cannot use a JSON object as a value`},
		{"spend kind", features.Spends, CSV,
			"month,channel,kind,amount\n2024-03,ads,ads,1\n",
			`in.csv:2: column "kind": "ads" is not one of [marketing sales]`},
		{"spend month", features.Spends, CSV,
			"month,channel,kind,amount\nMarch,ads,sales,1\n",
			`in.csv:2: column "month": cannot parse "March" as a time`},
		{"required in ndjson", features.UsageEvents, NDJSON,
			`{"account_id":"a","feature":"f"}`,
			`in.ndjson:1: column "at": is required`},
		{"zero time", features.UsageEvents, NDJSON,
			`{"account_id":"a","feature":"f","at":"0001-01-01"}`,
			`in.ndjson:1: column "at": 0001-01-01T00:00:00Z is the zero time, which means "not set"; leave the field empty or give a time from 1970-01-01`},
		{"lone surrogate", features.Escalations, NDJSON,
			`{"escalation_id":"e","account_id":"a","at":"2024-01-01","direction":"negative","severity":"low","note":"x\ud800y"}`,
			`in.ndjson:1: column "note": holds a lone UTF-16 surrogate escape`},
		{"invalid UTF-8 in JSON", features.Escalations, NDJSON,
			"{\"escalation_id\":\"e\xff\",\"account_id\":\"a\"}",
			`in.ndjson:1: column "escalation_id": is not valid UTF-8`},
		{"NUL in a CSV note", features.Escalations, CSV,
			"escalation_id,account_id,at,direction,severity,note\ne,a,2024-01-01,negative,low,ok\ne2,a,2024-01-01,negative,low,a\x00b\n",
			`in.csv:3: column "note": holds a NUL byte at byte 1`},
		{"NUL escape in a JSON note", features.Escalations, NDJSON,
			`{"escalation_id":"e","account_id":"a","at":"2024-01-01","direction":"negative","severity":"low","note":"a\u0000"}`,
			`in.ndjson:1: column "note": holds a NUL byte at byte 1`},
		{"count of MaxInt64", features.UsageEvents, CSV,
			"account_id,feature,at,count\na,f,2024-01-01,9223372036854775807\n",
			`in.csv:2: column "count": 9223372036854775807 is not between 1 and 1000000000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAll(t, tt.input, tt.table, tt.format, nil, false)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error\ngot  %s\nwant %s", err, tt.want)
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Errorf("error is a %T, not a *Error", err)
			}
		})
	}
}

// TestDecodeStrict refuses, under RefuseUnknown, the columns that the
// default decoder ignores, and accepts attributes of accounts only.
func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name   string
		table  features.Table
		format Format
		input  string
		want   string // error; "" for none
	}{
		{"csv typo", features.UsageEvents, CSV, "account_id,feature,at,cuont\na,f,2024-01-01,2\n",
			`in.csv:1: column "cuont": is not a column of usage_events`},
		{"ndjson typo on its line", features.UsageEvents, NDJSON,
			`{"account_id":"a","feature":"f","at":"2024-01-01"}` + "\n" + `{"account_id":"a","feature":"f","at":"2024-01-01","cuont":2}`,
			`in.ndjson:2: column "cuont": is not a column of usage_events`},
		{"attribute of accounts", features.Accounts, CSV, "account_id,created_at,attr_country\na,2024-01-01,IN\n", ""},
		{"attribute of another table", features.Tickets, CSV, "ticket_id,account_id,opened_at,priority,attr_country\nt,a,2024-01-01,low,IN\n",
			`in.csv:1: column "attr_country": is not a column of tickets`},
		{"bare prefix", features.Accounts, CSV, "account_id,created_at,attr_\na,2024-01-01,IN\n",
			`in.csv:1: column "attr_": is not a column of accounts (free attributes are named attr_NAME)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAll(t, tt.input, tt.table, tt.format, nil, true)
			if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if _, err := decodeAll(t, tt.input, tt.table, tt.format, nil, false); err != nil {
				t.Errorf("without RefuseUnknown: %v", err)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-03-01", date(2024, 3, 1, 0, 0, 0, 0), true},
		{"2024-02-29", date(2024, 2, 29, 0, 0, 0, 0), true},
		{"2023-02-29", time.Time{}, false},
		{"2024-03-01T09:30:00Z", date(2024, 3, 1, 9, 30, 0, 0), true},
		{"2024-03-01T09:30:00.5Z", date(2024, 3, 1, 9, 30, 0, 500000000), true},
		{"2024-03-01T09:30:00.123456789Z", date(2024, 3, 1, 9, 30, 0, 123456789), true},
		{"2024-03-01T09:30:00+01:00", date(2024, 3, 1, 8, 30, 0, 0), true},
		{"2024-03-01 09:30:00", date(2024, 3, 1, 9, 30, 0, 0), true},
		{"2024-03-01T09:30:00", date(2024, 3, 1, 9, 30, 0, 0), true},
		{"2020-01-21 03:01:47", date(2020, 1, 21, 3, 1, 47, 0), true},
		{"2020-01-21 03:01:47.25", date(2020, 1, 21, 3, 1, 47, 250000000), true},
		{"2020-01-21T03:01:47.123", date(2020, 1, 21, 3, 1, 47, 123000000), true},
		{"2020-01-21 03:01:47Z", date(2020, 1, 21, 3, 1, 47, 0), true},
		{"2020-01-21 03:01:47 UTC", date(2020, 1, 21, 3, 1, 47, 0), true},
		{"2020-01-21 03:01:47+00", date(2020, 1, 21, 3, 1, 47, 0), true},
		{"2020-01-21 03:01:47+02", date(2020, 1, 21, 1, 1, 47, 0), true},
		{"2020-01-21 03:01:47.5-0130", date(2020, 1, 21, 4, 31, 47, 500000000), true},
		{"2020-01-21 03:01:47 +05:30", date(2020, 1, 20, 21, 31, 47, 0), true},
		{"2020-01-21T03:01:47-07:00", date(2020, 1, 21, 10, 1, 47, 0), true},
		{"2020-01-21 03:01:47+2", time.Time{}, false},
		{"2020-01-21 03:01:47+24:00", time.Time{}, false},
		{"2020-01-21 03:01:47 CET", time.Time{}, false},
		{"2020-01-21 03:01", time.Time{}, false},
		{"2020-01-21 03:01:47.", time.Time{}, false},
		{"2024-03-01T24:00:00Z", time.Time{}, false},
		{"2024-3-1", time.Time{}, false},
		{"3/7/2024", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in, nil)
		if ok != tt.ok || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDeriveEventID(t *testing.T) {
	e := features.UsageEvent{AccountID: "a", UserID: "u", Feature: "f", At: date(2024, 1, 1, 0, 0, 0, 0), Count: 1}
	id := DeriveEventID(&e)
	if len(id) != 32 {
		t.Errorf("id %q has %d characters, want 32", id, len(id))
	}
	if again := DeriveEventID(&e); again != id {
		t.Errorf("id changed: %s then %s", id, again)
	}
	local := e
	local.At = e.At.In(time.FixedZone("CET", 3600))
	if DeriveEventID(&local) != id {
		t.Error("the same instant in another zone gave another id")
	}
	for _, change := range []func(*features.UsageEvent){
		func(e *features.UsageEvent) { e.AccountID = "b" },
		func(e *features.UsageEvent) { e.UserID = "" },
		func(e *features.UsageEvent) { e.Feature = "g" },
		func(e *features.UsageEvent) { e.At = e.At.Add(time.Microsecond) },
		func(e *features.UsageEvent) { e.Count = 2 },
		func(e *features.UsageEvent) { e.DurationS = 0.5 },
		func(e *features.UsageEvent) { e.Errors = 1 },
	} {
		c := e
		change(&c)
		if DeriveEventID(&c) == id {
			t.Errorf("%+v has the same id as %+v", c, e)
		}
	}
}

// TestDecodeFixtures decodes every good fixture and checks the record
// counts; the store's round-trip test compares their fields.
func TestDecodeFixtures(t *testing.T) {
	want := map[string]int{"accounts.csv": 3, "usage.csv": 6, "tickets.ndjson": 3, "escalations.csv": 2, "surveys.ndjson": 3, "billing.csv": 4}
	for name, n := range want {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", "ingest", "good", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			table, err := TableOf(path)
			if err != nil {
				t.Fatal(err)
			}
			format, err := FormatOf(path)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := decodeAll(t, string(data), table, format, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != n {
				t.Errorf("got %d records, want %d", len(recs), n)
			}
		})
	}
}

func TestTableAndFormatOf(t *testing.T) {
	tests := []struct {
		name   string
		table  features.Table
		format Format
	}{
		{"exports/usage.csv", features.UsageEvents, CSV},
		{"usage_events.ndjson", features.UsageEvents, NDJSON},
		{"Accounts.CSV", features.Accounts, CSV},
		{"nps.jsonl", features.SurveyResponses, NDJSON},
	}
	for _, tt := range tests {
		table, err := TableOf(tt.name)
		if err != nil || table != tt.table {
			t.Errorf("TableOf(%q) = %q, %v; want %q", tt.name, table, err, tt.table)
		}
		format, err := FormatOf(tt.name)
		if err != nil || format != tt.format {
			t.Errorf("FormatOf(%q) = %v, %v; want %v", tt.name, format, err, tt.format)
		}
	}
	if _, err := TableOf("orders.csv"); err == nil {
		t.Error("TableOf(orders.csv): no error")
	}
	if _, err := FormatOf("usage.xlsx"); err == nil {
		t.Error("FormatOf(usage.xlsx): no error")
	}
}

// TestDecodeReplacementCharacter keeps a U+FFFD the export spelled, as a
// character or an escape: only one encoding/json made up is refused.
func TestDecodeReplacementCharacter(t *testing.T) {
	for _, note := range []string{"\ufffd", `\ufffd`, `\uFFFD`, "\ufffd\\uFFFD"} {
		in := `{"escalation_id":"e","account_id":"a","at":"2024-01-01","direction":"negative","severity":"low","note":"` + note + `"}`
		recs, err := decodeAll(t, in, features.Escalations, NDJSON, nil, false)
		if err != nil || len(recs) != 1 || !strings.Contains(recs[0].(*features.Escalation).Note, "\ufffd") {
			t.Errorf("note %q: %v, %v", note, recs, err)
		}
	}
}
