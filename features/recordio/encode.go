package recordio

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openchurn/churn/features"
)

// The Append functions append one record as a CSV line (with its trailing
// newline) to dst and return the extended slice. Columns follow
// features.Table.Columns. They allocate only when dst must grow, so callers
// that build large outputs in parallel (the simulator) can reuse one buffer
// per worker.
//
// Formatting: times as RFC 3339 UTC with whole seconds
// (2024-03-01T09:30:00Z), empty when zero; floats in the shortest decimal
// form that parses back to the same value, never in exponent notation;
// booleans as true or false; text fields quoted as encoding/csv would.

// AppendHeader appends the header line of table t.
func AppendHeader(dst []byte, t features.Table) []byte {
	for i, c := range t.Columns() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendText(dst, c)
	}
	return append(dst, '\n')
}

// AppendAccount appends a as a line of the accounts table.
func AppendAccount(dst []byte, a *features.Account) []byte {
	dst = appendText(dst, a.AccountID)
	dst = appendText(append(dst, ','), a.Name)
	dst = appendText(append(dst, ','), a.Segment)
	dst = appendText(append(dst, ','), a.Plan)
	dst = strconv.AppendInt(append(dst, ','), int64(a.Seats), 10)
	dst = appendText(append(dst, ','), a.Owner)
	dst = appendTime(append(dst, ','), a.CreatedAt)
	dst = appendTime(append(dst, ','), a.TrialStartedAt)
	dst = appendTime(append(dst, ','), a.TrialEndsAt)
	dst = appendTime(append(dst, ','), a.ConvertedAt)
	dst = appendTime(append(dst, ','), a.ChurnedAt)
	dst = appendTime(append(dst, ','), a.RenewalAt)
	dst = appendFloat(append(dst, ','), a.MRR)
	return append(dst, '\n')
}

// AppendUsageEvent appends e as a line of the usage_events table.
func AppendUsageEvent(dst []byte, e *features.UsageEvent) []byte {
	dst = appendText(dst, e.EventID)
	dst = appendText(append(dst, ','), e.AccountID)
	dst = appendText(append(dst, ','), e.UserID)
	dst = appendText(append(dst, ','), e.Feature)
	dst = appendTime(append(dst, ','), e.At)
	dst = strconv.AppendInt(append(dst, ','), int64(e.Count), 10)
	dst = appendFloat(append(dst, ','), e.DurationS)
	dst = strconv.AppendInt(append(dst, ','), int64(e.Errors), 10)
	return append(dst, '\n')
}

// AppendTicket appends t as a line of the tickets table.
func AppendTicket(dst []byte, t *features.Ticket) []byte {
	dst = appendText(dst, t.TicketID)
	dst = appendText(append(dst, ','), t.AccountID)
	dst = appendTime(append(dst, ','), t.OpenedAt)
	dst = appendTime(append(dst, ','), t.FirstResponseAt)
	dst = appendTime(append(dst, ','), t.ResolvedAt)
	dst = appendText(append(dst, ','), t.Priority)
	dst = appendText(append(dst, ','), t.Category)
	dst = strconv.AppendInt(append(dst, ','), int64(t.CSAT), 10)
	dst = strconv.AppendBool(append(dst, ','), t.Escalated)
	dst = strconv.AppendInt(append(dst, ','), int64(t.AgentReplies), 10)
	return append(dst, '\n')
}

// AppendEscalation appends e as a line of the escalations table.
func AppendEscalation(dst []byte, e *features.Escalation) []byte {
	dst = appendText(dst, e.EscalationID)
	dst = appendText(append(dst, ','), e.AccountID)
	dst = appendTime(append(dst, ','), e.At)
	dst = appendText(append(dst, ','), e.Direction)
	dst = appendText(append(dst, ','), e.Severity)
	dst = appendText(append(dst, ','), e.Note)
	return append(dst, '\n')
}

// AppendSurveyResponse appends r as a line of the survey_responses table.
func AppendSurveyResponse(dst []byte, r *features.SurveyResponse) []byte {
	dst = appendText(dst, r.ResponseID)
	dst = appendText(append(dst, ','), r.AccountID)
	dst = appendText(append(dst, ','), r.UserID)
	dst = appendTime(append(dst, ','), r.At)
	dst = appendText(append(dst, ','), r.Kind)
	dst = strconv.AppendInt(append(dst, ','), int64(r.Score), 10)
	return append(dst, '\n')
}

// AppendBillingChange appends c as a line of the billing_changes table.
func AppendBillingChange(dst []byte, c *features.BillingChange) []byte {
	dst = appendText(dst, c.ChangeID)
	dst = appendText(append(dst, ','), c.AccountID)
	dst = appendTime(append(dst, ','), c.At)
	dst = appendFloat(append(dst, ','), c.MRR)
	dst = strconv.AppendInt(append(dst, ','), int64(c.Seats), 10)
	dst = appendText(append(dst, ','), c.Plan)
	dst = appendText(append(dst, ','), c.Kind)
	return append(dst, '\n')
}

// AppendSpend appends s as a line of the spend table, its month as
// YYYY-MM.
func AppendSpend(dst []byte, s *features.Spend) []byte {
	dst = s.Month.UTC().AppendFormat(dst, "2006-01")
	dst = appendText(append(dst, ','), s.Channel)
	dst = appendText(append(dst, ','), s.Kind)
	dst = appendFloat(append(dst, ','), s.Amount)
	return append(dst, '\n')
}

// CSVEncoder writes the records of one canonical table as CSV: a header
// line, then one line per record. It buffers its output; call Flush when
// done. Write errors are sticky: once one occurs, later calls return it.
// A CSVEncoder is not safe for concurrent use.
type CSVEncoder struct {
	table features.Table
	w     *bufio.Writer
	buf   []byte // reused line buffer, so encoding does not allocate
}

// NewCSVEncoder returns an encoder that writes the header of table t to w,
// followed by the records passed to its Encode methods.
func NewCSVEncoder(w io.Writer, t features.Table) *CSVEncoder {
	e := &CSVEncoder{table: t, w: bufio.NewWriterSize(w, 256<<10), buf: make([]byte, 0, 512)}
	e.buf = AppendHeader(e.buf, t)
	_, _ = e.w.Write(e.buf) // bufio keeps the error; Flush and later writes report it
	return e
}

// EncodeAccount writes a. The encoder must be for the accounts table.
func (e *CSVEncoder) EncodeAccount(a *features.Account) error {
	return e.line(features.Accounts, AppendAccount(e.buf[:0], a))
}

// EncodeUsageEvent writes ev. The encoder must be for the usage_events table.
func (e *CSVEncoder) EncodeUsageEvent(ev *features.UsageEvent) error {
	return e.line(features.UsageEvents, AppendUsageEvent(e.buf[:0], ev))
}

// EncodeTicket writes t. The encoder must be for the tickets table.
func (e *CSVEncoder) EncodeTicket(t *features.Ticket) error {
	return e.line(features.Tickets, AppendTicket(e.buf[:0], t))
}

// EncodeEscalation writes esc. The encoder must be for the escalations table.
func (e *CSVEncoder) EncodeEscalation(esc *features.Escalation) error {
	return e.line(features.Escalations, AppendEscalation(e.buf[:0], esc))
}

// EncodeSurveyResponse writes r. The encoder must be for the
// survey_responses table.
func (e *CSVEncoder) EncodeSurveyResponse(r *features.SurveyResponse) error {
	return e.line(features.SurveyResponses, AppendSurveyResponse(e.buf[:0], r))
}

// EncodeBillingChange writes c. The encoder must be for the billing_changes
// table.
func (e *CSVEncoder) EncodeBillingChange(c *features.BillingChange) error {
	return e.line(features.BillingChanges, AppendBillingChange(e.buf[:0], c))
}

// Flush writes any buffered data to the underlying writer.
func (e *CSVEncoder) Flush() error {
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("writing %s csv: %w", e.table, err)
	}
	return nil
}

// line writes one encoded line of table t, keeping the grown buffer for
// the next call.
func (e *CSVEncoder) line(t features.Table, b []byte) error {
	e.buf = b
	if t != e.table {
		return fmt.Errorf("encoding a %s record with a %s encoder", t, e.table)
	}
	if _, err := e.w.Write(b); err != nil {
		return fmt.Errorf("writing %s csv: %w", e.table, err)
	}
	return nil
}

// appendText appends s as a CSV field, quoting it when encoding/csv would:
// when it holds a comma, quote, carriage return or newline, starts with a
// space, or is the PostgreSQL end-of-data marker \. .
func appendText(dst []byte, s string) []byte {
	if !needsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendTime appends t in RFC 3339 UTC with whole seconds, or nothing when
// t is zero. It formats digits directly, being on the hot path of every
// event row; years outside 0–9999 fall back to time.AppendFormat.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05Z07:00")
	}
	hour, min, sec := t.Clock()
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), 'Z')
	return dst
}

// appendFloat appends v in the shortest fixed-point form that parses back
// to v. Fixed point rather than 'g' keeps large amounts readable: an MRR of
// 1000000 is written as 1000000, not 1e+06.
// Whole numbers, the common case (durations in seconds, round amounts),
// take the integer path, which is several times faster.
func appendFloat(dst []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		if v == 0 && math.Signbit(v) {
			return append(dst, "-0"...)
		}
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}
