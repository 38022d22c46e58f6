package recordio

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
)

// requiredColumns lists, per table, the columns a CSV header must have:
// those whose absence would make every row invalid.
var requiredColumns = map[features.Table][]string{
	features.Accounts:        {"account_id"},
	features.UsageEvents:     {"account_id", "feature", "at"},
	features.Tickets:         {"ticket_id", "account_id", "opened_at", "priority"},
	features.Escalations:     {"escalation_id", "account_id", "at", "direction", "severity"},
	features.SurveyResponses: {"response_id", "account_id", "at", "kind", "score"},
	features.BillingChanges:  {"change_id", "account_id", "at", "kind"},
	features.Spends:          {"month", "channel", "kind", "amount"},
}

// builders turn one row of canonical fields into a record. They read
// fields by canonical name, so they do not depend on column order.
var builders = map[features.Table]func(*fieldParser) Record{
	features.Accounts: func(p *fieldParser) Record {
		return &features.Account{
			AccountID:      p.str("account_id"),
			Name:           p.str("name"),
			Segment:        p.str("segment"),
			Plan:           p.str("plan"),
			Seats:          p.int("seats", 0),
			Owner:          p.str("owner"),
			CreatedAt:      p.time("created_at"),
			TrialStartedAt: p.time("trial_started_at"),
			TrialEndsAt:    p.time("trial_ends_at"),
			ConvertedAt:    p.time("converted_at"),
			ChurnedAt:      p.time("churned_at"),
			RenewalAt:      p.time("renewal_at"),
			MRR:            p.float("mrr"),
			Attributes:     p.takeAttributes(),
		}
	},
	features.UsageEvents: func(p *fieldParser) Record {
		e := &features.UsageEvent{
			EventID:   p.str("event_id"),
			AccountID: p.str("account_id"),
			UserID:    p.str("user_id"),
			Feature:   p.str("feature"),
			At:        p.time("at"),
			Count:     p.int("count", 1),
			DurationS: p.float("duration_s"),
			Errors:    p.int("errors", 0),
		}
		if e.EventID == "" && p.err == nil {
			e.EventID = DeriveEventID(e)
		}
		return e
	},
	features.Tickets: func(p *fieldParser) Record {
		return &features.Ticket{
			TicketID:        p.str("ticket_id"),
			AccountID:       p.str("account_id"),
			OpenedAt:        p.time("opened_at"),
			FirstResponseAt: p.time("first_response_at"),
			ResolvedAt:      p.time("resolved_at"),
			Priority:        p.str("priority"),
			Category:        p.str("category"),
			CSAT:            p.int("csat", 0),
			Escalated:       p.bool("escalated"),
			AgentReplies:    p.int("agent_replies", 0),
		}
	},
	features.Escalations: func(p *fieldParser) Record {
		return &features.Escalation{
			EscalationID: p.str("escalation_id"),
			AccountID:    p.str("account_id"),
			At:           p.time("at"),
			Direction:    p.str("direction"),
			Severity:     p.str("severity"),
			Note:         p.str("note"),
		}
	},
	features.SurveyResponses: func(p *fieldParser) Record {
		return &features.SurveyResponse{
			ResponseID: p.str("response_id"),
			AccountID:  p.str("account_id"),
			UserID:     p.str("user_id"),
			At:         p.time("at"),
			Kind:       p.str("kind"),
			Score:      p.int("score", 0),
		}
	},
	features.BillingChanges: func(p *fieldParser) Record {
		return &features.BillingChange{
			ChangeID:  p.str("change_id"),
			AccountID: p.str("account_id"),
			At:        p.time("at"),
			MRR:       p.float("mrr"),
			Seats:     p.int("seats", 0),
			Plan:      p.str("plan"),
			Kind:      p.str("kind"),
		}
	},
	features.Spends: func(p *fieldParser) Record {
		return &features.Spend{
			Month:   p.month("month"),
			Channel: p.str("channel"),
			Kind:    p.str("kind"),
			Amount:  p.float("amount"),
		}
	},
}

// fieldParser converts one row's fields, held in canonical column order,
// to typed values. It keeps the first conversion error, so a builder can
// read every field and check once.
type fieldParser struct {
	vals  []string
	cols  []string
	attrs map[string]string // an account's attributes; nil when none
	rules *rules
	err   error
}

func (p *fieldParser) reset() {
	clear(p.vals)
	p.attrs = nil
	p.err = nil
}

// setAttribute sets attribute name to v, trimmed; an empty value is no
// attribute, as an empty field is no value.
func (p *fieldParser) setAttribute(name, v string) {
	if v = strings.TrimSpace(v); v == "" {
		return
	}
	if p.attrs == nil {
		p.attrs = make(map[string]string)
	}
	p.attrs[name] = v
}

// takeAttributes hands the row's attributes to its record.
func (p *fieldParser) takeAttributes() map[string]string {
	a := p.attrs
	p.attrs = nil
	return a
}

// raw returns the trimmed field of column col.
func (p *fieldParser) raw(col string) string {
	for i, c := range p.cols {
		if c == col {
			return strings.TrimSpace(p.vals[i])
		}
	}
	return ""
}

func (p *fieldParser) fail(col, format, value string) {
	if p.err == nil {
		p.err = &features.FieldError{Field: col, Reason: "cannot parse " + strconv.Quote(value) + " as " + format}
	}
}

func (p *fieldParser) str(col string) string { return p.raw(col) }

func (p *fieldParser) int(col string, def int) int {
	s := p.raw(col)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		// Spreadsheets write whole numbers as 3.0.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			p.fail(col, "an integer", s)
			return 0
		}
		n = int(f)
	}
	return n
}

func (p *fieldParser) float(col string) float64 {
	s := p.raw(col)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		p.fail(col, "a number", s)
		return 0
	}
	return f
}

func (p *fieldParser) bool(col string) bool {
	s := p.raw(col)
	if s == "" {
		return false
	}
	w := strings.ToLower(s)
	switch {
	case p.rules.trueWords[w]:
		return true
	case p.rules.falseWords[w]:
		return false
	}
	p.fail(col, "a boolean", s)
	return false
}

func (p *fieldParser) time(col string) time.Time {
	s := p.raw(col)
	if s == "" {
		return time.Time{}
	}
	t, ok := parseTime(s, p.rules.layouts)
	if !ok {
		p.fail(col, "a time", s)
	}
	if t.IsZero() && ok && p.err == nil {
		p.err = &features.FieldError{Field: col, Reason: features.ZeroTimeReason}
	}
	return t
}

// month parses YYYY-MM, or any time, as the first instant of its month.
func (p *fieldParser) month(col string) time.Time {
	s := p.raw(col)
	if t, err := time.Parse("2006-01", s); err == nil {
		return t
	}
	t := p.time(col)
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// defaultLayouts are tried after parseISO and the mapping's layouts, for
// what parseISO leaves: RFC 3339 years outside 0000-9999 and the like.
var defaultLayouts = []string{time.RFC3339Nano}

// parseTime parses s with the mapping's layouts, then the defaults, and
// returns it in UTC.
func parseTime(s string, layouts []string) (time.Time, bool) {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	if t, ok := parseISO(s); ok {
		return t, true
	}
	for _, l := range defaultLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseISO reads the ISO 8601 forms that exports and databases write:
// YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS with a T or a space between date and
// time, an optional fraction of up to nine digits and an optional zone: Z,
// UTC, or an offset +HH, +HHMM or +HH:MM (PostgreSQL writes +00), with or
// without a space before it. A time without a zone is UTC. It returns
// false for anything else, which the mapping's layouts and time.Parse then
// try; time.Parse costs several times more.
func parseISO(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), true
	}
	if len(s) < 19 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	hour, ok1 := digits(s[11:13])
	minute, ok2 := digits(s[14:16])
	sec, ok3 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest, nsec := s[19:], 0
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		frac, _ := digits(rest[1:n])
		for i := n; i < 10; i++ {
			frac *= 10
		}
		nsec, rest = frac, rest[n:]
	}
	offset, ok := zoneOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// zoneOffset reads the zone after a time, as parseISO accepts it, and
// returns its offset east of UTC in seconds.
func zoneOffset(zone string) (int, bool) {
	zone = strings.TrimPrefix(zone, " ")
	switch zone {
	case "", "Z", "UTC":
		return 0, true
	}
	if len(zone) < 3 || (zone[0] != '+' && zone[0] != '-') {
		return 0, false
	}
	hm := zone[1:]
	if len(hm) == 5 && hm[2] == ':' {
		hm = hm[:2] + hm[3:]
	}
	if len(hm) != 2 && len(hm) != 4 {
		return 0, false
	}
	h, ok := digits(hm[:2])
	m, okm := 0, true
	if len(hm) == 4 {
		m, okm = digits(hm[2:])
	}
	if !ok || !okm || h > 23 || m > 59 {
		return 0, false
	}
	offset := h*3600 + m*60
	if zone[0] == '-' {
		offset = -offset
	}
	return offset, true
}

// digits parses a short run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// DeriveEventID returns the id of a usage event that has none: the first
// 16 bytes, in hex, of the SHA-256 of its other fields. Loading the same
// event twice therefore yields the same id, which keeps re-loads
// idempotent. Times are hashed in RFC 3339 UTC with nanoseconds.
func DeriveEventID(e *features.UsageEvent) string {
	var buf [256]byte
	b := buf[:0]
	b = append(b, e.AccountID...)
	b = append(b, 0)
	b = append(b, e.UserID...)
	b = append(b, 0)
	b = append(b, e.Feature...)
	b = append(b, 0)
	b = e.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(e.Count), 10)
	b = append(b, 0)
	b = strconv.AppendFloat(b, e.DurationS, 'g', -1, 64)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(e.Errors), 10)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
