package report

import (
	"fmt"
	"html/template"
	"strings"
)

// Chart geometry, in SVG user units: a plot area inset by margin.
const (
	width, height = 370.0, 280.0
	margin        = 50.0
)

// chart accumulates the SVG elements of one chart with axes from 0 to 1
// on x and 0 to ymax on y.
type chart struct {
	b    strings.Builder
	ymax float64
}

// newChart starts a chart; categories, when not nil, label equal-width
// slots along x instead of the ticks 0, 0.5 and 1.
func newChart(title, xlabel, ylabel string, ymax float64, categories []string) *chart {
	c := &chart{ymax: ymax}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img"><title>%s</title>`,
		width, height, width, height, template.HTMLEscapeString(title))
	fmt.Fprintf(&c.b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>`, margin, margin/2, width-1.5*margin, height-1.5*margin)
	for _, t := range []float64{0, 0.5, 1} {
		if categories == nil {
			fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%g</text>`, c.x(t), height-margin+14, t)
		}
		fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%.3g</text>`, margin-4, c.y(t*ymax)+3, t*ymax)
	}
	for i, l := range categories {
		x := c.x((float64(i) + 0.5) / float64(len(categories)))
		fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%s</text>`, x, height-margin+14, template.HTMLEscapeString(l))
	}
	fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`, (margin+width-margin/2)/2, height-4, template.HTMLEscapeString(xlabel))
	fmt.Fprintf(&c.b, `<text x="11" y="%.1f" font-size="11" text-anchor="middle" transform="rotate(-90 11 %.1f)">%s</text>`, height/2, height/2, template.HTMLEscapeString(ylabel))
	return c
}

func (c *chart) x(v float64) float64 { return margin + v*(width-1.5*margin) }
func (c *chart) y(v float64) float64 {
	return height - margin - v/c.ymax*(height-1.5*margin)
}

// line draws a polyline through the points (x, y).
func (c *chart) line(xs, ys []float64, color string, dashed bool) {
	var pts strings.Builder
	for i := range xs {
		fmt.Fprintf(&pts, "%.1f,%.1f ", c.x(xs[i]), c.y(ys[i]))
	}
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="4 3"`
	}
	fmt.Fprintf(&c.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>`, strings.TrimSpace(pts.String()), color, dash)
}

// dots draws circles at the points (x, y).
func (c *chart) dots(xs, ys []float64, color string) {
	for i := range xs {
		fmt.Fprintf(&c.b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, c.x(xs[i]), c.y(ys[i]), color)
	}
}

// bars draws len(ys) equal-width bars across the x axis, offset and
// narrowed so that several series can stand side by side.
func (c *chart) bars(ys []float64, color string, series, of int) {
	w := 1 / float64(len(ys))
	for i, v := range ys {
		x0 := c.x(float64(i)*w + w*float64(series)/float64(of))
		x1 := c.x(float64(i)*w + w*float64(series+1)/float64(of))
		fmt.Fprintf(&c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x0, c.y(v), max(x1-x0-1, 0.5), c.y(0)-c.y(v), color)
	}
}

// legend writes a line of legend text at the top left of the plot area.
func (c *chart) legend(row int, color, text string) {
	fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" font-size="10" fill="%s">%s</text>`, margin+6, margin/2+14+12*float64(row), color, template.HTMLEscapeString(text))
}

func (c *chart) svg() template.HTML {
	c.b.WriteString("</svg>")
	return template.HTML(c.b.String()) //nolint:gosec // built from numbers and escaped text only
}
