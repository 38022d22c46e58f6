package recordio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

var (
	encT0 = time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	encT1 = time.Date(2024, 3, 2, 17, 5, 9, 0, time.UTC)
)

// encSampleRecords holds one record of every table, with text that needs
// quoting, a zero optional time and a large float.
func encSampleRecords() (*features.Account, *features.UsageEvent, *features.Ticket, *features.Escalation, *features.SurveyResponse, *features.BillingChange) {
	return &features.Account{AccountID: "A1", Name: `Acme, "Inc"`, Segment: "smb", Plan: "team", Seats: 12, Owner: "rep-01",
			CreatedAt: encT0, TrialStartedAt: encT0, TrialEndsAt: encT1, RenewalAt: encT1, MRR: 1000000},
		&features.UsageEvent{EventID: "e1", AccountID: "A1", UserID: "u1", Feature: "reports", At: encT1, Count: 3, DurationS: 12.5, Errors: 1},
		&features.Ticket{TicketID: "T1", AccountID: "A1", OpenedAt: encT0, FirstResponseAt: encT1, Priority: "urgent", Category: "billing", CSAT: 4, Escalated: true},
		&features.Escalation{EscalationID: "X1", AccountID: "A1", At: encT0, Direction: features.DirectionNegative, Severity: "high", Note: "line one\nline two"},
		&features.SurveyResponse{ResponseID: "R1", AccountID: "A1", UserID: "u1", At: encT0, Kind: features.SurveyNPS, Score: 9},
		&features.BillingChange{ChangeID: "B1", AccountID: "A1", At: encT0, MRR: 99.95, Seats: 5, Plan: "team", Kind: features.BillingExpansion}
}

func TestAppendRecords(t *testing.T) {
	a, u, tk, esc, sr, bc := encSampleRecords()
	tests := []struct {
		table features.Table
		line  []byte
		want  string
	}{
		{features.Accounts, AppendAccount(nil, a),
			`A1,"Acme, ""Inc""",smb,team,12,rep-01,2024-03-01T09:30:00Z,2024-03-01T09:30:00Z,2024-03-02T17:05:09Z,,,2024-03-02T17:05:09Z,1000000` + "\n"},
		{features.UsageEvents, AppendUsageEvent(nil, u), "e1,A1,u1,reports,2024-03-02T17:05:09Z,3,12.5,1\n"},
		{features.Tickets, AppendTicket(nil, tk), "T1,A1,2024-03-01T09:30:00Z,2024-03-02T17:05:09Z,,urgent,billing,4,true,0\n"},
		{features.Spends, AppendSpend(nil, &features.Spend{Month: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Channel: "ads, search", Kind: "sales", Amount: 99.5}),
			"2024-03,\"ads, search\",sales,99.5\n"},
		{features.Escalations, AppendEscalation(nil, esc), "X1,A1,2024-03-01T09:30:00Z,negative,high,\"line one\nline two\"\n"},
		{features.SurveyResponses, AppendSurveyResponse(nil, sr), "R1,A1,u1,2024-03-01T09:30:00Z,nps,9\n"},
		{features.BillingChanges, AppendBillingChange(nil, bc), "B1,A1,2024-03-01T09:30:00Z,99.95,5,team,expansion\n"},
	}
	for _, tt := range tests {
		t.Run(string(tt.table), func(t *testing.T) {
			if string(tt.line) != tt.want {
				t.Fatalf("got  %q\nwant %q", tt.line, tt.want)
			}
			// The line must parse as one CSV record with the table's columns.
			rec, err := csv.NewReader(bytes.NewReader(tt.line)).Read()
			if err != nil {
				t.Fatal(err)
			}
			if len(rec) != len(tt.table.Columns()) {
				t.Fatalf("%d fields, want %d (%v)", len(rec), len(tt.table.Columns()), tt.table.Columns())
			}
		})
	}
}

// TestEncodeDecodeRoundTrip checks that the decoder reads back exactly
// what the encoder writes: decoding and re-encoding gives the same bytes.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	a, u, tk, esc, sr, bc := encSampleRecords()
	tests := []struct {
		table features.Table
		line  []byte
	}{
		{features.Accounts, AppendAccount(nil, a)},
		{features.UsageEvents, AppendUsageEvent(nil, u)},
		{features.Tickets, AppendTicket(nil, tk)},
		{features.Escalations, AppendEscalation(nil, esc)},
		{features.SurveyResponses, AppendSurveyResponse(nil, sr)},
		{features.BillingChanges, AppendBillingChange(nil, bc)},
	}
	for _, tt := range tests {
		t.Run(string(tt.table), func(t *testing.T) {
			in := append(AppendHeader(nil, tt.table), tt.line...)
			d, err := NewDecoder(bytes.NewReader(in), "roundtrip.csv", tt.table, CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			var again []byte
			switch r := rec.(type) {
			case *features.Account:
				again = AppendAccount(nil, r)
			case *features.UsageEvent:
				again = AppendUsageEvent(nil, r)
			case *features.Ticket:
				again = AppendTicket(nil, r)
			case *features.Escalation:
				again = AppendEscalation(nil, r)
			case *features.SurveyResponse:
				again = AppendSurveyResponse(nil, r)
			case *features.BillingChange:
				again = AppendBillingChange(nil, r)
			default:
				t.Fatalf("decoded a %T", rec)
			}
			if !bytes.Equal(again, tt.line) {
				t.Errorf("re-encoded as %q, first encoded as %q", again, tt.line)
			}
		})
	}
}

func TestAppendTextMatchesEncodingCSV(t *testing.T) {
	for _, s := range []string{"", "plain", "a,b", `say "hi"`, "two\nlines", "cr\rlf", " leading space", "\tleading tab",
		"\u3000ideographic space", "trailing ", `\.`, `\.x`, "naïve", `""`} {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		if err := w.Write([]string{s}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if got := string(appendText(nil, s)) + "\n"; got != want.String() {
			t.Errorf("appendText(%q) = %q, encoding/csv writes %q", s, got, want.String())
		}
	}
}

func TestAppendTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, ""},
		{encT1, "2024-03-02T17:05:09Z"},
		{time.Date(2024, 3, 2, 19, 5, 9, 999, time.FixedZone("CEST", 2*3600)), "2024-03-02T17:05:09Z"},
		{time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC), "0999-12-31T23:59:59Z"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)},
	}
	for _, tt := range tests {
		if got := string(appendTime(nil, tt.in)); got != tt.want {
			t.Errorf("appendTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.want == "" || tt.in.Year() > 9999 {
			continue
		}
		back, err := time.Parse(time.RFC3339, tt.want)
		if err != nil || !back.Equal(tt.in.Truncate(time.Second)) {
			t.Errorf("%q parses back as %v, %v; want %v", tt.want, back, err, tt.in)
		}
	}
}

func TestAppendFloatRoundTrips(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -3, 12.5, 1 << 53, 1<<53 + 2, -(1 << 60), 99.95, 1e6, 123456789.25, 1e-7, math.MaxFloat64} {
		s := string(appendFloat(nil, v))
		if strings.ContainsAny(s, "eE") {
			t.Errorf("appendFloat(%v) = %q uses an exponent", v, s)
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != v {
			t.Errorf("appendFloat(%v) = %q parses back as %v, %v", v, s, back, err)
		}
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	_, u, _, _, _, _ := encSampleRecords()
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = AppendUsageEvent(buf[:0], u) }); n != 0 {
		t.Errorf("AppendUsageEvent allocates %v times per call", n)
	}
}

func TestCSVEncoder(t *testing.T) {
	a, u, tk, esc, sr, bc := encSampleRecords()
	tests := []struct {
		table  features.Table
		encode func(*CSVEncoder) error
		line   []byte
	}{
		{features.Accounts, func(e *CSVEncoder) error { return e.EncodeAccount(a) }, AppendAccount(nil, a)},
		{features.UsageEvents, func(e *CSVEncoder) error { return e.EncodeUsageEvent(u) }, AppendUsageEvent(nil, u)},
		{features.Tickets, func(e *CSVEncoder) error { return e.EncodeTicket(tk) }, AppendTicket(nil, tk)},
		{features.Escalations, func(e *CSVEncoder) error { return e.EncodeEscalation(esc) }, AppendEscalation(nil, esc)},
		{features.SurveyResponses, func(e *CSVEncoder) error { return e.EncodeSurveyResponse(sr) }, AppendSurveyResponse(nil, sr)},
		{features.BillingChanges, func(e *CSVEncoder) error { return e.EncodeBillingChange(bc) }, AppendBillingChange(nil, bc)},
	}
	for _, tt := range tests {
		t.Run(string(tt.table), func(t *testing.T) {
			var out bytes.Buffer
			e := NewCSVEncoder(&out, tt.table)
			for range 2 {
				if err := tt.encode(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			want := string(AppendHeader(nil, tt.table)) + string(tt.line) + string(tt.line)
			if out.String() != want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
			}
		})
	}
}

func TestCSVEncoderErrors(t *testing.T) {
	a, u, _, _, _, _ := encSampleRecords()
	e := NewCSVEncoder(&bytes.Buffer{}, features.UsageEvents)
	if err := e.EncodeAccount(a); err == nil {
		t.Error("encoding an account with a usage_events encoder succeeded")
	}

	errDisk := errors.New("disk full")
	e = NewCSVEncoder(encFailingWriter{errDisk}, features.UsageEvents)
	var err error
	for i := 0; i < 10000 && err == nil; i++ { // enough to overflow the buffer
		err = e.EncodeUsageEvent(u)
	}
	if !errors.Is(err, errDisk) {
		t.Errorf("got %v, want an error wrapping %v", err, errDisk)
	}
	if err := e.Flush(); !errors.Is(err, errDisk) {
		t.Errorf("Flush: got %v, want an error wrapping %v", err, errDisk)
	}
}

type encFailingWriter struct{ err error }

func (w encFailingWriter) Write([]byte) (int, error) { return 0, w.err }

func BenchmarkCSVEncoderUsageEvent(b *testing.B) {
	_, u, _, _, _, _ := encSampleRecords()
	var out bytes.Buffer
	e := NewCSVEncoder(&out, features.UsageEvents)
	b.ReportAllocs()
	for b.Loop() {
		if err := e.EncodeUsageEvent(u); err != nil {
			b.Fatal(err)
		}
		if out.Len() > 1<<20 {
			out.Reset()
		}
	}
}
