package dashboard

import (
	"math"
	"strconv"
	"strings"
)

// chart is the geometry of an inline SVG chart, computed here so that the
// template only places elements: a line with its dots, or bars, over
// optional shaded zones, with tick labels on both axes. Every coordinate is
// a number, so the template has nothing to escape but the labels.
type chart struct {
	W, H       float64
	Left, Top  float64 // the plot area's corner
	Right, Bot float64
	Label      string // the chart's accessible name
	Line       string // polyline points, "x,y x,y …"
	Dots       []mark
	Bars       []mark
	Zones      []zone
	XTicks     []tick
	YTicks     []tick
}

// mark is a dot (X, Y) or a bar (X, Y, Width, Height), titled for
// tooltips and screen readers.
type mark struct {
	X, Y, Width, Height float64
	Title               string
}

// zone shades the band of the plot between Y and Y+Height.
type zone struct {
	Y, Height float64
	Class     string
}

// tick is an axis label; Anchor is its SVG text-anchor, so that the
// first and last x labels stay inside the chart.
type tick struct {
	Pos    float64
	Label  string
	Anchor string
}

// point is one value of a series, with the label of its x position.
type point struct {
	Label string
	Value float64
	Title string
}

// newChart returns an empty chart of the size with room for the axes'
// labels.
func newChart(w, h float64, label string) *chart {
	return &chart{W: w, H: h, Left: 36, Top: 8, Right: w - 8, Bot: h - 22, Label: label}
}

// y maps v in [lo, hi] to the plot's height, hi at the top.
func (c *chart) y(v, lo, hi float64) float64 {
	if hi <= lo {
		return c.Bot
	}
	v = math.Max(lo, math.Min(hi, v))
	return round1(c.Bot - (v-lo)/(hi-lo)*(c.Bot-c.Top))
}

// x returns the centre of slot i of n across the plot.
func (c *chart) x(i, n int) float64 {
	if n <= 1 {
		return round1((c.Left + c.Right) / 2)
	}
	return round1(c.Left + float64(i)*(c.Right-c.Left)/float64(n-1))
}

// yTicks labels the values with the suffix.
func (c *chart) yTicks(lo, hi float64, suffix string, values ...float64) {
	for _, v := range values {
		c.YTicks = append(c.YTicks, tick{Pos: c.y(v, lo, hi), Label: strconv.FormatFloat(v, 'f', -1, 64) + suffix})
	}
}

// xTicks labels about n of the points' positions, always the first and
// the last, dropping the one before the last when it would overlap it.
func (c *chart) xTicks(pts []point, n int, pos func(i int) float64) {
	if len(pts) == 0 {
		return
	}
	step := max(1, (len(pts)+n-1)/n)
	for i := 0; i < len(pts); i += step {
		c.XTicks = append(c.XTicks, tick{Pos: pos(i), Label: pts[i].Label})
	}
	if last := len(pts) - 1; last%step != 0 {
		if last%step < (step+1)/2 {
			c.XTicks = c.XTicks[:len(c.XTicks)-1]
		}
		c.XTicks = append(c.XTicks, tick{Pos: pos(last), Label: pts[last].Label})
	}
	for i := range c.XTicks {
		c.XTicks[i].Anchor = "middle"
	}
	if len(c.XTicks) > 1 {
		c.XTicks[0].Anchor, c.XTicks[len(c.XTicks)-1].Anchor = "start", "end"
	}
}

// lineChart draws pts as a line over [lo, hi].
func lineChart(w, h float64, label string, pts []point, lo, hi float64, suffix string, yticks ...float64) *chart {
	c := newChart(w, h, label)
	var line strings.Builder
	for i, p := range pts {
		x, y := c.x(i, len(pts)), c.y(p.Value, lo, hi)
		if i > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(strconv.FormatFloat(x, 'f', -1, 64) + "," + strconv.FormatFloat(y, 'f', -1, 64))
		c.Dots = append(c.Dots, mark{X: x, Y: y, Title: p.Title})
	}
	c.Line = line.String()
	c.yTicks(lo, hi, suffix, yticks...)
	c.xTicks(pts, 6, func(i int) float64 { return c.x(i, len(pts)) })
	return c
}

// barChart draws pts as bars from 0 to the largest value.
func barChart(w, h float64, label string, pts []point) *chart {
	c := newChart(w, h, label)
	hi := 0.0
	for _, p := range pts {
		hi = math.Max(hi, p.Value)
	}
	hi = niceCeil(hi)
	slot := (c.Right - c.Left) / float64(max(len(pts), 1))
	for i, p := range pts {
		y := c.y(p.Value, 0, hi)
		c.Bars = append(c.Bars, mark{X: round1(c.Left + float64(i)*slot + slot*0.15), Y: y, Width: round1(slot * 0.7),
			Height: round1(c.Bot - y), Title: p.Title})
	}
	c.yTicks(0, hi, "", 0, hi/2, hi)
	c.xTicks(pts, 6, func(i int) float64 { return round1(c.Left + (float64(i)+0.5)*slot) })
	return c
}

// healthChart draws a health history on 0–100 over the bands' zones.
func healthChart(w, h float64, pts []point, green, yellow float64) *chart {
	c := lineChart(w, h, "Health score history", pts, 0, 100, "", 0, 25, 50, 75, 100)
	c.Zones = []zone{
		{Y: c.y(100, 0, 100), Height: round1(c.y(green, 0, 100) - c.y(100, 0, 100)), Class: "z-green"},
		{Y: c.y(green, 0, 100), Height: round1(c.y(yellow, 0, 100) - c.y(green, 0, 100)), Class: "z-yellow"},
		{Y: c.y(yellow, 0, 100), Height: round1(c.y(0, 0, 100) - c.y(yellow, 0, 100)), Class: "z-red"},
	}
	return c
}

// sparkline is a row's small trend: polyline points in a 96×24 box and
// the last point, which is marked.
type sparkline struct {
	Points       string
	LastX, LastY float64
	Label        string
}

// newSparkline scales values (oldest first) to the box, over at least 10
// health points so that noise does not look like a cliff.
func newSparkline(values []float64) sparkline {
	if len(values) == 0 {
		return sparkline{Label: "no scores yet"}
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi-lo < 10 {
		mid := (hi + lo) / 2
		lo, hi = mid-5, mid+5
	}
	const w, h, pad = 96.0, 24.0, 3.0
	var b strings.Builder
	var s sparkline
	for i, v := range values {
		x := w - pad
		if len(values) > 1 {
			x = pad + float64(i)*(w-2*pad)/float64(len(values)-1)
		}
		y := h - pad - (v-lo)/(hi-lo)*(h-2*pad)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(round1(x), 'f', -1, 64) + "," + strconv.FormatFloat(round1(y), 'f', -1, 64))
		s.LastX, s.LastY = round1(x), round1(y)
	}
	s.Points = b.String()
	first, last := values[0], values[len(values)-1]
	switch {
	case len(values) == 1:
		s.Label = "one score so far: " + strconv.FormatFloat(math.Round(last), 'f', 0, 64)
	default:
		s.Label = "health over the last " + strconv.Itoa(len(values)) + " scores, from " +
			strconv.FormatFloat(math.Round(first), 'f', 0, 64) + " to " + strconv.FormatFloat(math.Round(last), 'f', 0, 64)
	}
	return s
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// PlotW is the plot area's width.
func (c *chart) PlotW() float64 { return round1(c.Right - c.Left) }
