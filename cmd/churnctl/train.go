package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
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
	activation := fs.String("activate", string(store.ActivateAuto), "with --task: auto (if its test AUC is not below the active model's), always or never")
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
		act, err := store.ParseActivation(*activation)
		if err != nil {
			return usagef("--activate: %v", err)
		}
		return trainFromStore(ctx, tf, *algo, act, *out, *asJSON, stdout)
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
// the store, shared by train and backtest.
type taskFlags struct {
	db                                          *string
	task, from, to, every, lead, horizon, grace string
	trialDay, trialDays, catalogueSize          int
	eventFeatures                               int
	keyFeatures, truth, dataEnd, testFrom       string
	attributes                                  string
}

func addTaskFlags(fs *flag.FlagSet) *taskFlags {
	tf := &taskFlags{db: dbFlag(fs)}
	fs.StringVar(&tf.task, "task", "", "train from the store: churn or conversion")
	fs.StringVar(&tf.from, "from", "", "first observation date, YYYY-MM-DD (default: churn, the month after the first usage event's; conversion, trial-day days after it)")
	fs.StringVar(&tf.to, "to", "", "last observation date (default: the data's end)")
	fs.StringVar(&tf.every, "every", "1m", "churn: observation step, Nd, Nw or Nm; or renewal: a lead before each paying account's renewals")
	fs.StringVar(&tf.lead, "lead", "7d", "churn: lead time before the label window")
	fs.StringVar(&tf.horizon, "horizon", "", "churn: label window length (default 30d; with --every renewal, up to the next renewal)")
	fs.StringVar(&tf.grace, "grace", "14d", "days within which a return undoes a churn, or a conversion after the trial still counts")
	fs.IntVar(&tf.trialDay, "trial-day", 7, "conversion: the trial day each trial is observed on")
	fs.IntVar(&tf.trialDays, "trial-days", 0, "conversion: planned trial length in days (default: the feature catalog's)")
	fs.StringVar(&tf.keyFeatures, "key-features", "", "comma-separated product features whose adoption predicts success")
	fs.IntVar(&tf.catalogueSize, "catalogue-size", 0, "number of product features, the denominator of adoption")
	fs.StringVar(&tf.attributes, "attributes", "", "comma-separated account attributes (attr_NAME columns) to use as firmographic features")
	fs.IntVar(&tf.eventFeatures, "event-features", dataset.DefaultEventFeatures, "per-event features for the K product features of most volume before the test period (0: none)")
	fs.StringVar(&tf.truth, "truth", "", "folder of a simulation's truth_*.csv: report the oracle AUC")
	fs.StringVar(&tf.dataEnd, "data-end", "", "when the data stops, YYYY-MM-DD (default: the day after the latest event)")
	fs.StringVar(&tf.testFrom, "test-from", "", "train: test on the rows observed from this date, YYYY-MM-DD, and train and validate on those whose labels were known by it (default: the latest 20% of rows)")
	return tf
}

// days parses a span of whole days or weeks as a duration.
func days(name, v string) (time.Duration, error) {
	sp, err := dataset.ParseSpan(v)
	if err != nil || sp.Months != 0 {
		return 0, usagef("--%s %q: want days or weeks, e.g. 30d or 2w", name, v)
	}
	return time.Duration(sp.Days) * 24 * time.Hour, nil
}

// parseDate parses an optional YYYY-MM-DD flag value.
func parseDate(name, v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, usagef("--%s %q: want YYYY-MM-DD", name, v)
	}
	return t, nil
}

// taskSetup is a task built from the flags, with how to collect its
// examples.
type taskSetup struct {
	name     string
	task     dataset.Task
	labels   trainer.Labels
	features features.Config
	// step is one backtest window: the observation step for churn, a
	// month for conversion.
	back func(time.Time) time.Time
	// window describes the task for the registry.
	about map[string]string
	// testFrom is where train's test period starts; zero for the default.
	testFrom time.Time
	// eventFeatures is the size of the per-event vocabulary to choose.
	eventFeatures int
}

// setup builds the task named by the flags over the data in s.
func (tf *taskFlags) setup(ctx context.Context, s *store.Store) (*taskSetup, error) {
	st, err := s.Stats(ctx)
	if err != nil {
		return nil, err
	}
	if st.MinTime == nil {
		return nil, errors.New("the store holds no events: ingest some first")
	}
	end, err := parseDate("data-end", tf.dataEnd, st.MaxTime.UTC().Truncate(24*time.Hour).Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	grace, err := days("grace", tf.grace)
	if err != nil {
		return nil, err
	}
	var truth *trainer.Truth
	if tf.truth != "" {
		if truth, err = trainer.ReadTruth(ctx, tf.truth); err != nil {
			return nil, fmt.Errorf("--truth: %w", err)
		}
	}
	ts := &taskSetup{name: tf.task, features: features.Config{CatalogueSize: tf.catalogueSize, TrialDays: tf.trialDays}}
	if ts.testFrom, err = parseDate("test-from", tf.testFrom, time.Time{}); err != nil {
		return nil, err
	}
	for _, k := range strings.Split(tf.keyFeatures, ",") {
		if k = strings.TrimSpace(k); k != "" {
			ts.features.KeyFeatures = append(ts.features.KeyFeatures, k)
		}
	}
	for _, a := range strings.Split(tf.attributes, ",") {
		if a = strings.TrimSpace(a); a != "" {
			ts.features.Attributes = append(ts.features.Attributes, a)
		}
	}
	if tf.eventFeatures < 0 {
		return nil, usagef("--event-features %d: want a count, 0 for none", tf.eventFeatures)
	}
	ts.eventFeatures = tf.eventFeatures
	if _, err := ts.features.Catalog(); err != nil {
		return nil, usagef("--catalogue-size %d, --key-features %q, --trial-days %d, --attributes %q: %v", tf.catalogueSize, tf.keyFeatures, tf.trialDays, tf.attributes, err)
	}
	ts.about = map[string]string{"data_end": end.Format(time.DateOnly), "grace": tf.grace}
	// Observations start once usage is recorded: billing history often
	// reaches further back (customers who were trials years ago), and
	// rows from before usage data exists have empty vectors and labels
	// that teach the model that inactivity converts and retains.
	firstUse := *st.MinTime
	for _, t := range st.Tables {
		if t.Table == features.UsageEvents && t.MinTime != nil {
			firstUse = *t.MinTime
		}
	}
	switch tf.task {
	case "churn":
		first := time.Date(firstUse.Year(), firstUse.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
		from, err := parseDate("from", tf.from, first)
		if err != nil {
			return nil, err
		}
		to, err := parseDate("to", tf.to, end)
		if err != nil {
			return nil, err
		}
		renewals := tf.every == "renewal"
		every := dataset.Span{Months: 1} // the backtest step of renewal observations
		if !renewals {
			if every, err = dataset.ParseSpan(tf.every); err != nil {
				return nil, usagef("--every: %v", err)
			}
		}
		lead, err := days("lead", tf.lead)
		if err != nil {
			return nil, err
		}
		horizonFlag := tf.horizon
		if horizonFlag == "" && !renewals {
			horizonFlag = "30d"
		}
		var horizon time.Duration
		if horizonFlag != "" {
			if horizon, err = days("horizon", horizonFlag); err != nil {
				return nil, err
			}
		}
		c := &dataset.Churn{Renewals: renewals, From: from, To: to, Lead: lead, Horizon: horizon, Grace: grace, DataEnd: end}
		if !renewals {
			if c.Schedule, err = dataset.Schedule(from, to, every); err != nil {
				return nil, usagef("--every %q: %v", tf.every, err)
			}
		} else if horizonFlag == "" {
			horizonFlag = "renewal"
		}
		if err := c.Validate(); err != nil {
			return nil, usagef("--lead %q, --horizon %q, --grace %q, --data-end: %v", tf.lead, tf.horizon, tf.grace, err)
		}
		ts.task, ts.labels = c, trainer.ChurnLabels(c, truth)
		ts.back = func(t time.Time) time.Time { return dataset.Span{Months: -every.Months, Days: -every.Days}.After(t) }
		for k, v := range map[string]string{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "every": tf.every, "lead": tf.lead, "horizon": horizonFlag} {
			ts.about[k] = v
		}
	case "conversion":
		first := firstUse.Truncate(24*time.Hour).AddDate(0, 0, tf.trialDay+1)
		from, err := parseDate("from", tf.from, first)
		if err != nil {
			return nil, err
		}
		to, err := parseDate("to", tf.to, time.Time{})
		if err != nil {
			return nil, err
		}
		c := &dataset.Conversion{TrialDay: tf.trialDay, TrialDays: tf.trialDays, Grace: grace, From: from, To: to, DataEnd: end}
		if err := c.Validate(); err != nil {
			return nil, usagef("--trial-day %d, --trial-days %d, --grace %q, --data-end: %v", tf.trialDay, tf.trialDays, tf.grace, err)
		}
		ts.task, ts.labels = c, trainer.ConversionLabels(c, truth)
		ts.back = func(t time.Time) time.Time { return features.AddMonths(t, -1) }
		ts.about["trial_day"] = fmt.Sprint(tf.trialDay)
	default:
		return nil, usagef("--task %q: want churn or conversion", tf.task)
	}
	return ts, nil
}

// collect builds the task's examples from the store.
func (ts *taskSetup) collect(ctx context.Context, s *store.Store) (*trainer.Examples, error) {
	start := time.Now()
	src := dataset.SourceFunc(func(ctx context.Context, fn func(h *features.History) error) error {
		return s.Histories(ctx, store.Shard{}, fn)
	})
	var err error
	if ts.features, err = dataset.Vocabulary(ctx, src, ts.features, dataset.VocabularyOptions{EventFeatures: ts.eventFeatures, Before: ts.testFrom}); err != nil {
		return nil, err
	}
	e, stats, err := trainer.Collect(ctx, src, ts.task, dataset.Options{Features: ts.features}, ts.labels)
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "built dataset", "task", ts.name, "accounts", stats.Accounts, "events", stats.Events, "rows", stats.Rows,
		"seconds", time.Since(start).Seconds())
	return e, nil
}

// modelDetails is the document the registry keeps with a model trained
// from the store, which churnctl report draws.
type modelDetails struct {
	Task     map[string]string  `json:"task"`
	Result   *trainer.Result    `json:"result"`
	Catalog  []features.Feature `json:"catalog"`
	Features features.Config    `json:"features"`
}

// storeTrainReport is what `churnctl train --task … --json` prints.
type storeTrainReport struct {
	Version    int64              `json:"version"`
	State      store.ModelState   `json:"state"`
	Previous   *int64             `json:"previous_active,omitempty"`
	Task       string             `json:"task"`
	Algorithm  string             `json:"algorithm"`
	Evaluation trainer.Evaluation `json:"evaluation"`
	Candidates []table.Candidate  `json:"candidates"`
	Groups     []trainer.Driver   `json:"groups"`
	Drivers    []trainer.Driver   `json:"top_drivers"`
	Seconds    float64            `json:"seconds"`
}

// examplesFromStore opens the store tf names and builds the labelled
// examples of tf's task from it. The caller closes the store.
func examplesFromStore(ctx context.Context, tf *taskFlags) (*store.Store, *taskSetup, *trainer.Examples, error) {
	s, err := store.Open(ctx, *tf.db)
	if err != nil {
		return nil, nil, nil, err
	}
	ts, err := tf.setup(ctx, s)
	if err == nil {
		var e *trainer.Examples
		if e, err = ts.collect(ctx, s); err == nil {
			return s, ts, e, nil
		}
	}
	s.Close()
	return nil, nil, nil, err
}

// trainFromStore trains a model of the task on the store and registers it.
func trainFromStore(ctx context.Context, tf *taskFlags, algo string, act store.Activation, out string, asJSON bool, stdout io.Writer) error {
	start := time.Now()
	s, ts, e, err := examplesFromStore(ctx, tf)
	if err != nil {
		return err
	}
	defer s.Close()
	opt := trainer.DefaultOptions()
	opt.Fit.Algorithm, opt.Logger = algo, slog.Default()
	opt.TestFrom = ts.testFrom
	r, err := trainer.Train(ctx, e, opt)
	if err != nil {
		if tf.testFrom != "" && errors.Is(err, trainer.ErrEmptySlice) {
			return usagef("--test-from %s: %v", tf.testFrom, err)
		}
		return fmt.Errorf("training %s: %w", ts.name, err)
	}
	a := r.Artifact
	a.Metadata.Task, a.Metadata.Label, a.Metadata.IDColumn = ts.name, ts.name, "account_id"
	a.Metadata.TrainedAt = time.Now().UTC().Truncate(time.Second)
	maps.Copy(a.Metadata.Extra, ts.about)
	var buf bytes.Buffer
	if err := models.EncodeArtifact(&buf, a); err != nil {
		return err
	}
	if out != "" {
		if err := writeAtomically(out, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
			return err
		}
	}
	catalog, err := ts.features.Catalog()
	if err != nil {
		return err
	}
	metricsDoc, err := json.Marshal(r.Evaluation)
	if err != nil {
		return err
	}
	details, err := json.Marshal(modelDetails{Task: ts.about, Result: r, Catalog: catalog, Features: ts.features})
	if err != nil {
		return err
	}
	m := &store.Model{Task: ts.name, Algorithm: a.Algorithm, WindowStart: r.WindowStart, WindowEnd: r.WindowEnd,
		TestAUC: r.Evaluation.Test.AUC, Metrics: metricsDoc, Details: details, Artifact: buf.Bytes()}
	prev, err := s.RegisterModel(ctx, m, act)
	if err != nil {
		return err
	}
	rep := storeTrainReport{Version: m.Version, State: m.State, Task: ts.name, Algorithm: a.Algorithm, Evaluation: r.Evaluation,
		Candidates: r.Candidates, Groups: r.Groups, Drivers: r.Drivers[:min(10, len(r.Drivers))], Seconds: time.Since(start).Seconds()}
	if prev != nil {
		rep.Previous = &prev.Version
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	return printTrainReport(stdout, rep, prev)
}

// printTrainReport writes the human-readable summary of a store training run.
func printTrainReport(w io.Writer, r storeTrainReport, prev *store.Model) error {
	ev, t := r.Evaluation, r.Evaluation.Test
	fmt.Fprintf(w, "model %d (%s, %s): %s\n", r.Version, r.Task, r.Algorithm, r.State)
	switch {
	case prev == nil:
	case r.State == store.ModelActive:
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
