package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/metrics"
	"github.com/openchurn/churn/training/table"
	"github.com/openchurn/churn/training/trainer"
)

// trainReport is what `churnctl train --json` prints.
type trainReport struct {
	Algorithm   string                   `json:"algorithm"`
	Calibration models.CalibrationMethod `json:"calibration"`
	FitSeconds  float64                  `json:"fit_seconds"`
	Rows        int                      `json:"rows"`
	Features    int                      `json:"features"`
	Validation  metrics.Summary          `json:"validation"`
	Candidates  []table.Candidate        `json:"candidates"`
	Model       string                   `json:"model"`
}

// runTrain fits a model: on a CSV feature table (--table), writing its
// artifact to a file, or on the store (--task), building the training set
// with the feature engine and registering the model.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", stderr)
	tf := addTaskFlags(fs)
	activation := fs.String("activate", string(trainer.ActivateAuto), "with --task: auto (if its test AUC is not below the active model's), always or never")
	tablePath := fs.String("table", "", "training table: CSV with a header row")
	label := fs.String("label", "", "label column (required with --table)")
	positive := fs.String("positive", "", "label value meaning positive (default: 1/true/yes/y/t)")
	id := fs.String("id", "", "identifier column: not a feature, carried through by predict")
	drop := fs.String("drop", "", "comma-separated columns to ignore (leaks, free text)")
	algo := fs.String("algo", table.Auto, "learner: auto (best by validation log loss), gbdt or logreg")
	out := fs.String("out", "", "artifact file to write (required with --table; optional with --task)")
	asJSON := fs.Bool("json", false, "print a JSON report instead of a summary")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl train --table FILE --label COLUMN --out FILE [flags]\n"+
			"       churnctl train --db DSN --task churn|conversion [flags]\n\n"+
			"With --table, fits a model on a CSV feature table by cross-fitting.\n"+
			"With --task, builds the training set from the store with the feature engine,\n"+
			"splits it by time into train, validation and test, and registers the model.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *algo != table.Auto && *algo != models.AlgorithmGBDT && *algo != models.AlgorithmLogReg {
		return usagef("--algo %q: want auto, gbdt or logreg", *algo)
	}
	if tf.task != "" {
		if fs.NArg() > 0 {
			return usagef("unexpected arguments %q", fs.Args())
		}
		if *tablePath != "" {
			return usagef("--table and --task are exclusive")
		}
		spec, err := tf.spec(ctx)
		if err != nil {
			return usagef("--activate: %v", err)
		}
		if spec.Activation, err = trainer.ParseActivation(*activation); err != nil {
			return usagef("--activate: %v", err)
		}
		spec.Options.Fit.Algorithm, spec.Options.Logger = *algo, slog.Default()
		return trainFromStore(ctx, tf, spec, *out, *asJSON, stdout)
	}
	switch {
	case *tablePath == "" || *label == "" || *out == "":
		return usagef("--table, --label and --out are required (or --task to train from the store)")
	case fs.NArg() > 0:
		return usagef("unexpected arguments %q", fs.Args())
	}
	spec := table.Spec{Label: *label, Positive: *positive, ID: *id}
	for _, c := range strings.Split(*drop, ",") {
		if c = strings.TrimSpace(c); c != "" {
			spec.Drop = append(spec.Drop, c)
		}
	}

	start := time.Now()
	t, err := readTable(ctx, *tablePath)
	if err != nil {
		return err
	}
	d, _, err := t.Dataset(ctx, spec)
	if err != nil {
		return err
	}
	opt := table.DefaultOptions()
	opt.Algorithm = *algo
	opt.Logger = slog.Default()
	res, err := table.Fit(ctx, d, opt)
	if err != nil {
		return fmt.Errorf("training on %s: %w", *tablePath, err)
	}
	fitSeconds := time.Since(start).Seconds()

	a := res.Artifact
	a.Metadata.Label, a.Metadata.Positive, a.Metadata.IDColumn = spec.Label, spec.Positive, spec.ID
	a.Metadata.TrainedAt = time.Now().UTC().Truncate(time.Second)
	a.Metadata.Extra["table"] = filepath.Base(*tablePath)
	if err := writeAtomically(*out, func(w io.Writer) error { return models.EncodeArtifact(w, a) }); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(trainReport{
			Algorithm: res.Chosen.Algorithm, Calibration: res.Chosen.Calibration, FitSeconds: fitSeconds,
			Rows: d.Rows(), Features: len(d.Schema), Validation: res.Chosen.Validation,
			Candidates: res.Candidates, Model: *out,
		})
	}
	v := res.Chosen.Validation
	_, err = fmt.Fprintf(stdout, "%s (%s calibration) on %d rows, %d features in %.1fs: validation AUC %.4f, PR AUC %.4f, log loss %.4f, Brier %.4f; wrote %s\n",
		res.Chosen.Algorithm, res.Chosen.Calibration, d.Rows(), len(d.Schema), fitSeconds, v.AUC, v.PRAUC, v.LogLoss, v.Brier, *out)
	return err
}

// readTable reads a CSV table from a file.
func readTable(ctx context.Context, path string) (*table.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return table.Read(ctx, f, path)
}

// writeAtomically writes a file through write into a temporary file in the
// same directory and renames it into place, so readers never see a
// partial file.
func writeAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename this fails harmlessly
	// CreateTemp makes the file private; artifacts and reports are meant
	// to be read by others, as a file written by os.Create would be.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// taskFlags are the flags that say which labelled dataset to build from
// the store, shared by train, backtest and dataset.
type taskFlags struct {
	db                                          *string
	task, from, to, every, lead, horizon, grace string
	trialDay, trialDays, catalogueSize          int
	eventFeatures                               int
	keyFeatures, truth, dataEnd, testFrom       string
	attributes                                  string
	guard                                       trainer.Guard
}

func addTaskFlags(fs *flag.FlagSet) *taskFlags {
	tf := &taskFlags{db: dbFlag(fs)}
	def := trainer.DefaultSpec(trainer.TaskChurn)
	fs.StringVar(&tf.task, "task", "", "train from the store: churn or conversion")
	fs.StringVar(&tf.from, "from", "", "first observation date, YYYY-MM-DD (default: churn, the month after the first usage event's; conversion, trial-day days after it)")
	fs.StringVar(&tf.to, "to", "", "last observation date (default: the data's end)")
	fs.StringVar(&tf.every, "every", def.Every.String(), "churn: observation step, Nd, Nw or Nm; or renewal: a lead before each paying account's renewals")
	fs.StringVar(&tf.lead, "lead", dataset.FormatDuration(def.Lead), "churn: lead time before the label window: Nd, Nw or a Go duration")
	fs.StringVar(&tf.horizon, "horizon", "", "churn: label window length, Nd, Nw or a Go duration (default "+dataset.FormatDuration(def.Horizon)+"; with --every renewal, up to the next renewal)")
	fs.StringVar(&tf.grace, "grace", dataset.FormatDuration(def.Grace), "time within which a return undoes a churn, or a conversion after the trial still counts")
	fs.IntVar(&tf.trialDay, "trial-day", def.TrialDay, "conversion: the trial day each trial is observed on")
	fs.IntVar(&tf.trialDays, "trial-days", 0, "conversion: planned trial length in days (default: the feature catalog's)")
	fs.StringVar(&tf.keyFeatures, "key-features", "", "comma-separated product features whose adoption predicts success")
	fs.IntVar(&tf.catalogueSize, "catalogue-size", 0, "number of product features, the denominator of adoption")
	fs.StringVar(&tf.attributes, "attributes", "", "comma-separated account attributes (attr_NAME columns) to use as firmographic features")
	fs.IntVar(&tf.eventFeatures, "event-features", dataset.DefaultEventFeatures, "per-event features for the K product features of most volume before the test period (0: none)")
	fs.StringVar(&tf.truth, "truth", "", "folder of a simulation's truth_*.csv: report the oracle AUC")
	fs.StringVar(&tf.dataEnd, "data-end", "", "when the data stops, YYYY-MM-DD (default: the day after the latest event)")
	fs.IntVar(&tf.guard.MinPositives, "min-test-positives", def.Guard.MinPositives, "--activate auto: positives the test set must hold")
	fs.IntVar(&tf.guard.MinNegatives, "min-test-negatives", def.Guard.MinNegatives, "--activate auto: negatives the test set must hold")
	fs.StringVar(&tf.testFrom, "test-from", "", "train: test on the rows observed from this date, YYYY-MM-DD, and train and validate on those whose labels were known by it (default: the latest 20% of rows)")
	return tf
}

// duration parses the value of the flag name with dataset.ParseDuration.
func duration(name, v string) (time.Duration, error) {
	d, err := dataset.ParseDuration(v)
	if err != nil {
		return 0, usagef("--%s: %v", name, err)
	}
	return d, nil
}

// parseDate parses an optional YYYY-MM-DD flag value.
func parseDate(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, usagef("--%s %q: want YYYY-MM-DD", name, v)
	}
	return t, nil
}

// spec parses the flags into a trainer.Spec, before anything is opened,
// and refuses values no store could make sense of, naming the flag.
func (tf *taskFlags) spec(ctx context.Context) (trainer.Spec, error) {
	if tf.task != trainer.TaskChurn && tf.task != trainer.TaskConversion {
		return trainer.Spec{}, usagef("--task %q: want churn or conversion", tf.task)
	}
	spec := trainer.DefaultSpec(tf.task)
	spec.TrialDay, spec.Guard, spec.EventFeatures = tf.trialDay, tf.guard, tf.eventFeatures
	spec.Features = features.Config{CatalogueSize: tf.catalogueSize, TrialDays: tf.trialDays,
		KeyFeatures: list(tf.keyFeatures), Attributes: list(tf.attributes)}
	switch {
	case tf.trialDay < 0:
		return trainer.Spec{}, usagef("--trial-day %d: want a day of the trial, 0 or more", tf.trialDay)
	case tf.eventFeatures < 0:
		return trainer.Spec{}, usagef("--event-features %d: want a count, 0 for none", tf.eventFeatures)
	}
	if _, err := spec.Features.Catalog(); err != nil {
		return trainer.Spec{}, usagef("--catalogue-size %d, --key-features %q, --trial-days %d, --attributes %q: %v",
			tf.catalogueSize, tf.keyFeatures, tf.trialDays, tf.attributes, err)
	}
	var err error
	for _, d := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", tf.from, &spec.From}, {"to", tf.to, &spec.To}, {"data-end", tf.dataEnd, &spec.DataEnd},
		{"test-from", tf.testFrom, &spec.Options.TestFrom}} {
		if *d.dst, err = parseDate(d.name, d.v); err != nil {
			return trainer.Spec{}, err
		}
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"lead", tf.lead, &spec.Lead}, {"grace", tf.grace, &spec.Grace}} {
		if *d.dst, err = duration(d.name, d.v); err != nil {
			return trainer.Spec{}, err
		}
	}
	if spec.Renewals = tf.every == "renewal"; !spec.Renewals {
		if spec.Every, err = dataset.ParseSpan(tf.every); err != nil || spec.Every.IsZero() {
			return trainer.Spec{}, usagef("--every %q: want a positive step (Nd, Nw or Nm) or renewal", tf.every)
		}
	}
	switch {
	case tf.horizon != "":
		if spec.Horizon, err = duration("horizon", tf.horizon); err != nil {
			return trainer.Spec{}, err
		}
		if spec.Horizon == 0 {
			return trainer.Spec{}, usagef("--horizon %q: want a positive length", tf.horizon)
		}
	case spec.Renewals:
		spec.Horizon = 0 // up to the next renewal
	}
	if tf.truth != "" {
		if spec.Truth, err = trainer.ReadTruth(ctx, tf.truth); err != nil {
			return trainer.Spec{}, fmt.Errorf("--truth: %w", err)
		}
	}
	return spec, nil
}

// list splits a comma-separated flag value, dropping empty items.
func list(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// planFromStore opens the store tf names and plans spec against its data.
// The caller closes the store.
func planFromStore(ctx context.Context, tf *taskFlags, spec trainer.Spec) (*store.Store, *trainer.Plan, error) {
	s, err := openStore(ctx, *tf.db)
	if err != nil {
		return nil, nil, err
	}
	ext, err := s.Extent(ctx)
	if err == nil {
		var p *trainer.Plan
		if p, err = spec.Plan(ext); err == nil {
			return s, p, nil
		}
		err = usageError{err}
	}
	s.Close()
	return nil, nil, err
}

// storeTrainReport is what `churnctl train --task … --json` prints.
type storeTrainReport struct {
	Version    int64              `json:"version"`
	State      trainer.ModelState `json:"state"`
	Previous   *int64             `json:"previous_active,omitempty"`
	Task       string             `json:"task"`
	Algorithm  string             `json:"algorithm"`
	Lead       *dataset.Duration  `json:"lead,omitempty"`
	Horizon    *dataset.Duration  `json:"horizon,omitempty"`
	Evaluation trainer.Evaluation `json:"evaluation"`
	Candidates []table.Candidate  `json:"candidates"`
	Groups     []trainer.Driver   `json:"groups"`
	Drivers    []trainer.Driver   `json:"top_drivers"`
	Seconds    float64            `json:"seconds"`
	// Guarded says why the activation guard kept the model a candidate,
	// or, with --activate always, why it would have.
	Guarded string `json:"guarded,omitempty"`
}

// trainFromStore trains a model of spec's task on the store tf names and
// registers it.
func trainFromStore(ctx context.Context, tf *taskFlags, spec trainer.Spec, out string, asJSON bool, stdout io.Writer) error {
	start := time.Now()
	s, err := openStore(ctx, *tf.db)
	if err != nil {
		return err
	}
	defer s.Close()
	t, err := trainer.TrainAndRegister(ctx, s, s.Source(store.Shard{}), spec)
	if err != nil {
		if !spec.Options.TestFrom.IsZero() && errors.Is(err, trainer.ErrEmptySlice) {
			return usagef("--test-from %s: %v", tf.testFrom, err)
		}
		return err
	}
	m, r := t.Model, t.Result
	if out != "" {
		if err := writeAtomically(out, func(w io.Writer) error { _, err := w.Write(m.Artifact); return err }); err != nil {
			return err
		}
	}
	rep := storeTrainReport{Version: m.Version, State: m.State, Task: m.Task, Algorithm: m.Algorithm, Evaluation: r.Evaluation,
		Candidates: r.Candidates, Groups: r.Groups, Drivers: r.Drivers[:min(10, len(r.Drivers))], Seconds: time.Since(start).Seconds(), Guarded: t.Guarded}
	if m.Task == trainer.TaskChurn {
		rep.Lead, rep.Horizon = &m.Record.Lead, &m.Record.Horizon
	}
	if t.Previous != nil {
		rep.Previous = &t.Previous.Version
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	return printTrainReport(stdout, rep, m, t.Previous)
}

// printTrainReport writes the human-readable summary of a store training run.
func printTrainReport(w io.Writer, r storeTrainReport, m, prev *trainer.RegisteredModel) error {
	ev, t := r.Evaluation, r.Evaluation.Test
	fmt.Fprintf(w, "model %d (%s, %s): %s\n", r.Version, r.Task, r.Algorithm, r.State)
	fmt.Fprintf(w, "  predicts: %s\n", m.Record.Outcome())
	switch {
	case r.Guarded != "" && r.State == trainer.ModelActive:
		fmt.Fprintf(w, "  activated by --activate always, although %s\n", r.Guarded)
	case r.Guarded != "":
		fmt.Fprintf(w, "  left a candidate: %s (--activate always overrides)\n", r.Guarded)
	}
	switch {
	case prev == nil:
	case r.State == trainer.ModelActive:
		fmt.Fprintf(w, "  replaces model %d (test AUC %.4f)\n", prev.Version, prev.TestAUC)
	default:
		fmt.Fprintf(w, "  model %d stays active (test AUC %.4f)\n", prev.Version, prev.TestAUC)
	}
	fmt.Fprintf(w, "  rows: train %d, validation %d (from %s), test %d %s; purged %d\n",
		ev.TrainRows, ev.ValidRows, ev.ValidCut.Format(time.DateOnly), ev.TestRows, ev.Window, ev.Purged)
	for _, m := range []struct {
		name      string
		v, lo, hi float64
	}{
		{"ROC AUC", t.AUC, t.Lo.AUC, t.Hi.AUC}, {"PR AUC", t.PRAUC, t.Lo.PRAUC, t.Hi.PRAUC},
		{"log loss", t.LogLoss, t.Lo.LogLoss, t.Hi.LogLoss}, {"Brier", t.Brier, t.Lo.Brier, t.Hi.Brier},
		{"ECE (10 bins)", t.ECE, t.Lo.ECE, t.Hi.ECE}, {"top-decile lift", t.Lift, t.Lo.Lift, t.Hi.Lift},
		{"recall at top 20%", t.Recall, t.Lo.Recall, t.Hi.Recall},
	} {
		fmt.Fprintf(w, "  test %-18s %.4f  [%.4f, %.4f]\n", m.name, m.v, m.lo, m.hi)
	}
	if o := ev.Oracle; o != nil {
		fmt.Fprintf(w, "  oracle AUC %.4f on %d test rows; model %.4f there, ratio %.4f\n", o.AUC, o.Rows, o.ModelAUC, o.Ratio)
	}
	fmt.Fprintf(w, "  top drivers (more of it raises or lowers the probability):")
	for _, d := range r.Drivers[:min(5, len(r.Drivers))] {
		fmt.Fprintf(w, " %s (%s)", d.Name, d.Effect())
	}
	_, err := fmt.Fprintf(w, "\n  %.1fs\n", r.Seconds)
	return err
}
