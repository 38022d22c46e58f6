package dashboard

import (
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/openchurn/churn/saas"
)

// seriesChart is a chart of several series: stacked bars around zero
// and lines, each with its colour, and a legend. Its geometry and ticks
// are a chart's.
type seriesChart struct {
	*chart
	Zero   float64 // the y of 0, where bars start
	Rects  []rect
	Lines  []seriesLine
	Legend []legendItem
}

type rect struct {
	X, Y, Width, Height float64
	Fill, Title         string
}

type seriesLine struct {
	Points, Stroke string
	Dots           []mark
}

type legendItem struct{ Name, Color string }

// The movements' colours: growth greens, losses warm.
var movementColors = []struct{ name, color string }{
	{"New", "#2da44e"}, {"Expansion", "#4ac26b"}, {"Reactivation", "#a7d676"},
	{"Contraction", "#fb8f44"}, {"Churned", "#cf222e"},
}

// movementsChart stacks each month's MRR movements, growth above zero and
// losses below, with net new MRR as a line.
func movementsChart(months []saas.MRRMonth) *seriesChart {
	c := &seriesChart{chart: newChart(640, 240, "MRR movements per month, stacked, with net new MRR as a line")}
	c.Left = 56
	up, down := 0.0, 0.0
	for _, m := range months {
		up = math.Max(up, m.New+m.Expansion+m.Reactivation)
		down = math.Max(down, m.Contraction+m.Churned)
	}
	hi, lo := niceCeil(math.Max(up, 1)), -niceCeil(math.Max(down, 1))
	c.Zero = c.y(0, lo, hi)
	slot := (c.Right - c.Left) / float64(max(len(months), 1))
	pts := make([]point, len(months))
	var line strings.Builder
	net := seriesLine{Stroke: "#1f2328"}
	for i, m := range months {
		x := round1(c.Left + float64(i)*slot + slot*0.15)
		label := m.Month.String()
		pts[i] = point{Label: label}
		vals := []float64{m.New, m.Expansion, m.Reactivation, -m.Contraction, -m.Churned}
		pos, neg := 0.0, 0.0
		for k, v := range vals {
			if v == 0 {
				continue
			}
			base := &pos
			if v < 0 {
				base = &neg
			}
			y0, y1 := c.y(*base, lo, hi), c.y(*base+v, lo, hi)
			*base += v
			c.Rects = append(c.Rects, rect{X: x, Y: math.Min(y0, y1), Width: round1(slot * 0.7), Height: round1(math.Abs(y1 - y0)),
				Fill: movementColors[k].color, Title: label + " " + strings.ToLower(movementColors[k].name) + ": " + money(math.Abs(v))})
		}
		cx, cy := round1(c.Left+(float64(i)+0.5)*slot), c.y(m.NetNew, lo, hi)
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(strconv.FormatFloat(cx, 'f', -1, 64) + "," + strconv.FormatFloat(cy, 'f', -1, 64))
		net.Dots = append(net.Dots, mark{X: cx, Y: cy, Title: label + " net new MRR: " + money(m.NetNew)})
	}
	net.Points = line.String()
	c.Lines = []seriesLine{net}
	for _, mc := range movementColors {
		c.Legend = append(c.Legend, legendItem{mc.name, mc.color})
	}
	c.Legend = append(c.Legend, legendItem{"Net new", "#1f2328"})
	for _, v := range []float64{lo, 0, hi} {
		c.YTicks = append(c.YTicks, tick{Pos: c.y(v, lo, hi), Label: shortMoney(v)})
	}
	c.xTicks(pts, 4, func(i int) float64 { return round1(c.Left + (float64(i)+0.5)*slot) })
	return c
}

// linesChart draws series of fractions as percentages over [lo, hi] %;
// absent values break nothing: the line skips them.
func linesChart(label string, months []saas.Month, lo, hi float64, series ...struct {
	Name, Color string
	Values      []saas.Value
}) *seriesChart {
	c := &seriesChart{chart: newChart(640, 220, label)}
	pts := make([]point, len(months))
	for i, m := range months {
		pts[i] = point{Label: m.String()}
	}
	for _, s := range series {
		l := seriesLine{Stroke: s.Color}
		var b strings.Builder
		for i, v := range s.Values {
			f, ok := v.Float()
			if !ok {
				continue
			}
			x, y := c.x(i, len(months)), c.y(100*f, lo, hi)
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatFloat(x, 'f', -1, 64) + "," + strconv.FormatFloat(y, 'f', -1, 64))
			l.Dots = append(l.Dots, mark{X: x, Y: y, Title: months[i].String() + " " + s.Name + ": " + strconv.FormatFloat(100*f, 'f', 1, 64) + "%"})
		}
		l.Points = b.String()
		c.Lines = append(c.Lines, l)
		c.Legend = append(c.Legend, legendItem{s.Name, s.Color})
	}
	c.yTicks(lo, hi, "%", lo, (lo+hi)/2, hi)
	c.xTicks(pts, 4, func(i int) float64 { return c.x(i, len(months)) })
	return c
}

// channelRow is one channel's funnel as the page shows it: rates in
// percent, "—" where absent.
type channelRow struct {
	Channel                   string
	Trials                    int
	Activated, Paid, DaysPaid string
}

func channelRows(rows []saas.FunnelRow) []channelRow {
	out := make([]channelRow, len(rows))
	for i, r := range rows {
		out[i] = channelRow{Channel: r.Cohort, Trials: r.Trials, Activated: percent(r.ActivationRate),
			Paid: percent(r.ConversionRate), DaysPaid: "—"}
		if d, ok := r.DaysToConvertMedian.Float(); ok {
			out[i].DaysPaid = strconv.FormatFloat(d, 'f', 1, 64)
		}
	}
	return out
}

// percent prints a fraction as a percentage, or "—" when absent.
func percent(v saas.Value) string {
	f, ok := v.Float()
	if !ok {
		return "—"
	}
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

// shortMoney prints an axis amount: 12k, 1.5M.
func shortMoney(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// heatCell is one cell of the cohort heat map: its text and a fill from
// red (low) to green (full retention).
type heatCell struct {
	Text, Title string
	Style       template.CSS // the background, computed here from a number
}

// heatRow is one cohort of the heat map.
type heatRow struct {
	Cohort    string
	Customers int
	Cells     []heatCell
}

// cohortHeat turns cohorts' logo curves into heat-map rows, shading
// retention from lo (red) to 100 % (green).
func cohortHeat(cohorts []saas.Cohort, lo float64) []heatRow {
	rows := make([]heatRow, len(cohorts))
	for i, c := range cohorts {
		rows[i] = heatRow{Cohort: c.Cohort, Customers: c.Customers}
		for k, v := range c.Logos {
			f, _ := v.Float()
			t := math.Max(0, math.Min(1, (f-lo)/(1-lo)))
			// Hue 0 (red) to 120 (green), light enough for dark text.
			style := template.CSS("background: hsl(" + strconv.Itoa(int(120*t)) + ", 60%, 78%)")
			pct := strconv.FormatFloat(100*f, 'f', 0, 64) + "%"
			rows[i].Cells = append(rows[i].Cells, heatCell{Text: pct, Style: style,
				Title: c.Cohort + ", month " + strconv.Itoa(k) + ": " + pct + " still paying"})
		}
	}
	return rows
}
