package report

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/trainer"
)

// Model identifies the model a report describes.
type Model struct {
	Version     int64
	Task        string
	Algorithm   string
	State       string
	CreatedAt   time.Time
	WindowStart time.Time
	WindowEnd   time.Time
	Checksum    string
}

// Input is everything a report shows.
type Input struct {
	Model  Model
	Result *trainer.Result
	// Backtest is nil when none was recorded; the section then says how
	// to run one.
	Backtest *trainer.BacktestResult
	Catalog  []features.Feature
	// Drivers is the number of top drivers listed; 0 means 15.
	Drivers int
}

// ErrNoEvaluation is returned for a model registered without an
// evaluation, which has nothing to report.
var ErrNoEvaluation = errors.New("model was registered without an evaluation")

// FromModel returns the report input of a registered model: its identity,
// its record's result and catalog (the catalog its feature configuration
// builds, for a record that holds none), and its backtest.
func FromModel(m *trainer.RegisteredModel) (Input, error) {
	r := m.Record
	if r.Result == nil {
		return Input{}, fmt.Errorf("report of model %d: %w", m.Version, ErrNoEvaluation)
	}
	in := Input{
		Model: Model{Version: m.Version, Task: m.Task, Algorithm: m.Algorithm, State: string(m.State), CreatedAt: m.CreatedAt,
			WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, Checksum: m.Checksum},
		Result: r.Result, Catalog: r.Catalog, Backtest: m.Backtest,
	}
	if in.Catalog == nil {
		var err error
		if in.Catalog, err = r.Features.Catalog(); err != nil {
			return Input{}, fmt.Errorf("report of model %d: %w", m.Version, err)
		}
	}
	return in, nil
}

// Sections lists the id of every section a report holds, in order.
var Sections = []string{"summary", "roc", "calibration", "lift", "backtest", "drivers", "scores", "catalog"}

// Render writes the report of in as one HTML document to w.
func Render(w io.Writer, in Input) error {
	if in.Result == nil {
		return fmt.Errorf("report: model %d has no evaluation", in.Model.Version)
	}
	n := in.Drivers
	if n == 0 {
		n = 15
	}
	r := in.Result
	t := r.Evaluation.Test
	page := struct {
		Input
		Metrics                        []metricRow
		ROC, Calibration, Lift, Scores template.HTML
		TopDrivers                     []trainer.Driver
		MaxDriver                      float64
	}{Input: in, TopDrivers: r.Drivers[:min(n, len(r.Drivers))]}
	page.Metrics = []metricRow{
		{"ROC AUC", t.AUC, t.Lo.AUC, t.Hi.AUC}, {"PR AUC", t.PRAUC, t.Lo.PRAUC, t.Hi.PRAUC},
		{"Log loss", t.LogLoss, t.Lo.LogLoss, t.Hi.LogLoss}, {"Brier score", t.Brier, t.Lo.Brier, t.Hi.Brier},
		{"ECE (10 bins)", t.ECE, t.Lo.ECE, t.Hi.ECE}, {"Top-decile lift", t.Lift, t.Lo.Lift, t.Hi.Lift},
		{"Recall at top 20%", t.Recall, t.Lo.Recall, t.Hi.Recall},
	}
	for _, d := range page.TopDrivers {
		page.MaxDriver = max(page.MaxDriver, d.MeanAbs)
	}
	page.ROC, page.Calibration, page.Lift, page.Scores = rocChart(r.Curves), calibrationChart(r.Curves), liftChart(r.Curves), scoreChart(r.Curves)
	if err := tmpl.Execute(w, page); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

type metricRow struct {
	Name          string
	Value, Lo, Hi float64
}

func rocChart(c trainer.Curves) template.HTML {
	ch := newChart("ROC curve", "false positive rate", "true positive rate", 1, nil)
	ch.line([]float64{0, 1}, []float64{0, 1}, "#999", true)
	xs, ys := make([]float64, len(c.ROC)), make([]float64, len(c.ROC))
	for i, p := range c.ROC {
		xs[i], ys[i] = p[0], p[1]
	}
	ch.line(xs, ys, "#1f5fa8", false)
	ch.legend(0, "#1f5fa8", "model")
	ch.legend(1, "#999", "chance")
	return ch.svg()
}

func calibrationChart(c trainer.Curves) template.HTML {
	ch := newChart("Calibration", "predicted probability", "observed rate", 1, nil)
	ch.line([]float64{0, 1}, []float64{0, 1}, "#999", true)
	var xs, ys []float64
	for _, b := range c.Calibration {
		xs, ys = append(xs, b.Predicted), append(ys, b.Observed)
	}
	ch.line(xs, ys, "#1f5fa8", false)
	ch.dots(xs, ys, "#1f5fa8")
	ch.legend(0, "#1f5fa8", "test rows, 10 bins")
	ch.legend(1, "#999", "perfect calibration")
	return ch.svg()
}

func liftChart(c trainer.Curves) template.HTML {
	top := 1.0
	for _, v := range c.LiftByDecile {
		top = max(top, v)
	}
	deciles := make([]string, len(c.LiftByDecile))
	for i := range deciles {
		deciles[i] = fmt.Sprint(i + 1)
	}
	ch := newChart("Lift by decile", "decile of predicted probability, highest first", "lift", math.Ceil(top), deciles)
	ch.bars(c.LiftByDecile, "#1f5fa8", 0, 1)
	ch.line([]float64{0, 1}, []float64{1, 1}, "#999", true)
	return ch.svg()
}

func scoreChart(c trainer.Curves) template.HTML {
	var neg, pos []float64
	var tn, tp float64
	for b := range c.Scores[0] {
		tn += float64(c.Scores[0][b])
		tp += float64(c.Scores[1][b])
	}
	top := 0.0
	for b := range c.Scores[0] {
		neg = append(neg, float64(c.Scores[0][b])/max(tn, 1))
		pos = append(pos, float64(c.Scores[1][b])/max(tp, 1))
		top = max(top, neg[b], pos[b])
	}
	ch := newChart("Score distribution", "predicted probability", "share of class", max(top, 0.01), nil)
	ch.bars(neg, "#8aa9cf", 0, 2)
	ch.bars(pos, "#c0392b", 1, 2)
	ch.legend(0, "#8aa9cf", fmt.Sprintf("negatives (%.0f)", tn))
	ch.legend(1, "#c0392b", fmt.Sprintf("positives (%.0f)", tp))
	return ch.svg()
}

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"f4":   func(v float64) string { return num(v, 4) },
	"f2":   func(v float64) string { return num(v, 2) },
	"date": func(t time.Time) string { return t.Format(time.DateOnly) },
	"inc":  func(i int) int { return i + 1 },
	"pct":  func(v, of float64) string { return fmt.Sprintf("%.1f", 100*v/max(of, 1e-300)) },
}).Parse(page))

// num formats v with prec decimals, or a dash when it is undefined.
func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

const page = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Model {{.Model.Version}} · {{.Model.Task}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:.2em .7em;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.charts{display:flex;flex-wrap:wrap;gap:1em}
.bar{display:inline-block;height:.8em;background:#1f5fa8}.muted{color:#777}
</style></head><body>
<h1>Model {{.Model.Version}}: {{.Model.Task}} ({{.Model.Algorithm}})</h1>
<section id="summary"><h2>Summary</h2>
<p>State <b>{{.Model.State}}</b>; registered {{.Model.CreatedAt.Format "2006-01-02 15:04 MST"}}; observations {{date .Model.WindowStart}} to {{date .Model.WindowEnd}};
artifact SHA-256 <code>{{.Model.Checksum}}</code>.</p>
{{with .Result.Evaluation}}<p>Out-of-time split: trained on {{.TrainRows}} rows observed before {{date .ValidCut}}, validated (early stopping, calibration, model choice) on {{.ValidRows}} rows up to {{date .Window.Cut}},
tested on {{.TestRows}} rows from {{date .Window.Cut}}; {{.Purged}} rows were left out because their labels were not yet known at the next cut.</p>{{end}}
<table><tr><th>Test metric</th><th class="n">value</th><th class="n">95% bootstrap interval</th></tr>
{{range .Metrics}}<tr><td>{{.Name}}</td><td class="n">{{f4 .Value}}</td><td class="n">{{f4 .Lo}} – {{f4 .Hi}}</td></tr>
{{end}}{{with .Result.Evaluation.Oracle}}<tr><td>Oracle AUC (true probabilities, {{.Rows}} rows)</td><td class="n">{{f4 .AUC}}</td><td class="n">model {{f4 .ModelAUC}}, ratio {{f4 .Ratio}}</td></tr>{{end}}
</table></section>
<div class="charts">
<section id="roc"><h2>ROC curve</h2>{{.ROC}}</section>
<section id="calibration"><h2>Calibration</h2>{{.Calibration}}</section>
<section id="lift"><h2>Lift by decile</h2>{{.Lift}}</section>
<section id="scores"><h2>Score distribution</h2>{{.Scores}}</section>
</div>
<section id="backtest"><h2>Backtest</h2>
{{with .Backtest}}<table><tr><th>fold</th><th>cut</th><th class="n">train</th><th class="n">test</th><th>algorithm</th><th class="n">AUC</th><th class="n">PR AUC</th><th class="n">log loss</th><th class="n">ECE</th><th class="n">lift@10%</th><th class="n">recall@20%</th><th class="n">oracle AUC</th></tr>
{{range $i, $f := .Folds}}<tr><td>{{inc $i}}</td><td>{{date $f.Window.Cut}}</td><td class="n">{{$f.TrainRows}}</td><td class="n">{{$f.TestRows}}</td><td>{{$f.Algorithm}}</td><td class="n">{{f4 $f.Test.AUC}}</td><td class="n">{{f4 $f.Test.PRAUC}}</td><td class="n">{{f4 $f.Test.LogLoss}}</td><td class="n">{{f4 $f.Test.ECE}}</td><td class="n">{{f2 $f.Test.Lift}}</td><td class="n">{{f2 $f.Test.Recall}}</td><td class="n">{{with $f.Oracle}}{{f4 .AUC}}{{else}}–{{end}}</td></tr>
{{end}}<tr><th>mean</th><td></td><td></td><td></td><td></td><td class="n">{{f4 .Mean.AUC}}</td><td class="n">{{f4 .Mean.PRAUC}}</td><td class="n">{{f4 .Mean.LogLoss}}</td><td class="n">{{f4 .Mean.ECE}}</td><td class="n">{{f2 .Mean.Lift}}</td><td class="n">{{f2 .Mean.Recall}}</td><td class="n">{{with .MeanOracleAUC}}{{f4 .}}{{else}}–{{end}}</td></tr></table>
{{else}}<p class="muted">No backtest is recorded for this model. Run <code>churnctl backtest --task {{.Model.Task}} --folds 3 --model {{.Model.Version}}</code> to add one.</p>{{end}}
</section>
<section id="drivers"><h2>Top drivers</h2>
<p>Mean absolute contribution to the log-odds on test rows; direction is the correlation between a feature's value and its contribution.</p>
<table><tr><th>group</th><th class="n">mean |contribution|</th></tr>
{{range .Result.Groups}}<tr><td>{{.Name}}</td><td class="n">{{f4 .MeanAbs}}</td></tr>{{end}}</table>
<table><tr><th>feature</th><th>group</th><th class="n">mean |contribution|</th><th></th><th>more of it</th><th class="n">direction</th></tr>
{{range .TopDrivers}}<tr><td>{{.Name}}</td><td>{{.Group}}</td><td class="n">{{f4 .MeanAbs}}</td><td><span class="bar" style="width:{{pct .MeanAbs $.MaxDriver}}px"></span></td><td>{{.Effect}} the probability</td><td class="n">{{f2 .Direction}}</td></tr>
{{end}}</table></section>
<section id="catalog"><h2>Feature catalog</h2>
<table><tr><th>feature</th><th>group</th><th>window</th><th>unit</th><th>description</th><th>missing when</th></tr>
{{range .Catalog}}<tr><td>{{.Name}}</td><td>{{.Group}}</td><td>{{.Window}}</td><td>{{.Unit}}</td><td>{{.Description}}</td><td>{{.Missing}}</td></tr>
{{end}}</table></section>
</body></html>
`
