package report_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/report"
	"github.com/openchurn/churn/training/trainer"
)

// examples builds a small monthly churn history in which usage lowers
// the risk.
func examples() *trainer.Examples {
	rng := rand.New(rand.NewPCG(1, 1))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	e := &trainer.Examples{Data: &models.Dataset{
		Schema:  models.Schema{{Name: "active_days_30d", Group: "usage"}, {Name: "tickets_30d", Group: "support"}},
		Columns: make([][]float64, 2),
	}}
	for m := range 8 {
		for a := range 300 {
			u, k := rng.NormFloat64(), rng.NormFloat64()
			y := 0.0
			if rng.Float64() < 1/(1+math.Exp(2+u-k)) {
				y = 1
			}
			e.Data.Columns[0], e.Data.Columns[1] = append(e.Data.Columns[0], u), append(e.Data.Columns[1], k)
			e.Data.Labels = append(e.Data.Labels, y)
			e.Accounts = append(e.Accounts, string(rune('a'+a%26)))
			asOf := t0.AddDate(0, m, 0)
			e.AsOf, e.Known = append(e.AsOf, asOf), append(e.Known, asOf.AddDate(0, 0, 40))
		}
	}
	return e
}

// TestRenderHasEverySection parses the report and checks that every
// section is there with its content, and that the page needs nothing from
// elsewhere.
func TestRenderHasEverySection(t *testing.T) {
	e := examples()
	opt := trainer.DefaultOptions()
	opt.Fit.Algorithm, opt.Bootstrap = models.AlgorithmLogReg, 50
	res, err := trainer.Train(context.Background(), e, opt)
	if err != nil {
		t.Fatal(err)
	}
	back := func(t time.Time) time.Time { return t.AddDate(0, -1, 0) }
	bt, err := trainer.Backtest(context.Background(), e, trainer.RollingWindows(time.Date(2024, 8, 2, 0, 0, 0, 0, time.UTC), 2, back), opt)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := features.Config{}.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		backtest *trainer.BacktestResult
		want     string // text the backtest section must hold
	}{
		{"with backtest", bt, "mean"},
		{"without backtest", nil, "churnctl backtest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			in := report.Input{
				Model:  report.Model{Version: 3, Task: "churn", Algorithm: res.Chosen.Algorithm, State: "active", Checksum: "abc"},
				Result: res, Backtest: tc.backtest, Catalog: catalog,
			}
			if err := report.Render(&buf, in); err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			sections := map[string]*html.Node{}
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					for _, a := range n.Attr {
						if n.Data == "section" && a.Key == "id" {
							sections[a.Val] = n
						}
						if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#") {
							t.Errorf("<%s %s=%q> loads something from elsewhere", n.Data, a.Key, a.Val)
						}
					}
					if n.Data == "script" || n.Data == "link" {
						t.Errorf("the report has a <%s>", n.Data)
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			for _, id := range report.Sections {
				s, ok := sections[id]
				if !ok {
					t.Errorf("section %q is missing", id)
					continue
				}
				var svg, rows int
				var text strings.Builder
				var count func(n *html.Node)
				count = func(n *html.Node) {
					switch {
					case n.Type == html.ElementNode && n.Data == "svg":
						svg++
					case n.Type == html.ElementNode && n.Data == "tr":
						rows++
					case n.Type == html.TextNode:
						text.WriteString(n.Data)
					}
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						count(c)
					}
				}
				count(s)
				switch id {
				case "roc", "calibration", "lift", "scores":
					if svg != 1 {
						t.Errorf("section %q has %d charts, want 1", id, svg)
					}
				case "catalog":
					if rows != len(catalog)+1 {
						t.Errorf("catalog lists %d rows, want %d features and a header", rows-1, len(catalog))
					}
				case "drivers":
					if !strings.Contains(text.String(), "active_days_30d") || !strings.Contains(text.String(), "lowers the probability") {
						t.Errorf("drivers section does not say that usage lowers the risk: %q", text.String())
					}
				case "backtest":
					if !strings.Contains(text.String(), tc.want) {
						t.Errorf("backtest section lacks %q: %q", tc.want, text.String())
					}
				case "summary":
					if !strings.Contains(text.String(), "ROC AUC") || !strings.Contains(text.String(), "95% bootstrap interval") {
						t.Errorf("summary lacks the metrics: %q", text.String())
					}
				}
			}
		})
	}
}
