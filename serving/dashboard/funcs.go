package dashboard

import (
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// funcs are the templates' formatting helpers.
var funcs = template.FuncMap{
	"num":   num,
	"money": money,
	"pct":   func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" },
	"f0":    func(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', 0, 64) },
	"prob":  prob,
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Format(time.DateOnly)
	},
	"signed": func(v float64) string {
		s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
		if s == "-0" {
			s = "0"
		}
		if !strings.HasPrefix(s, "-") && s != "0" {
			s = "+" + s
		}
		return s
	},
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	// has reports whether a filter's values hold v.
	"has": func(vs []string, v string) bool { return slices.Contains(vs, v) },
}

// num formats v with up to two decimals and no trailing zeros.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// prob formats a probability as a whole percentage between 1% and 99%: a
// calibrated model is never certain, and a person reads "100%" or ">99%"
// as a promise, so 0.997 reads "99%" and 0.004 "<1%".
func prob(p float64) string {
	if p > 0 && p < 0.005 {
		return "<1%"
	}
	return strconv.FormatFloat(min(math.Round(100*p), 99), 'f', 0, 64) + "%"
}

// money formats v as whole dollars with thousands separators.
func money(v float64) string {
	neg := v < 0
	digits := strconv.FormatFloat(math.Abs(math.Round(v)), 'f', 0, 64)
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "−$" + b.String()
	}
	return "$" + b.String()
}

// alertForm is what the acknowledge, snooze and resolve forms of an
// alert need; Tomorrow is the earliest date a snooze may end on.
type alertForm struct {
	ID, Status, Rule, CSRF, Back, Tomorrow string
}

func init() {
	funcs["alertForm"] = func(id, status, rule, csrf, back string) alertForm {
		return alertForm{ID: id, Status: status, Rule: rule, CSRF: csrf, Back: back,
			Tomorrow: time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)}
	}
}
