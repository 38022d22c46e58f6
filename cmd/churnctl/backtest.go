package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/table"
	"github.com/openchurn/churn/training/trainer"
)

// runBacktest evaluates the task's training procedure at rolling cut dates.
func runBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backtest", stderr)
	tf := addTaskFlags(fs)
	folds := fs.Int("folds", 3, "number of rolling cut dates")
	algo := fs.String("algo", table.Auto, "learner: auto, gbdt or logreg")
	version := fs.Int64("model", 0, "record the backtest with this registered model, for its report")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl backtest --db DSN --task churn|conversion --folds K [flags]\n\n"+
			"For each of K cut dates, one observation step apart (a month for conversion) and\n"+
			"ending at the last observation, trains on the rows whose labels were known\n"+
			"before the cut and tests on the rows observed in the following step. Each\n"+
			"fold is printed by the as-of dates of the rows it tests.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case tf.task == "":
		return usagef("--task is required")
	case tf.testFrom != "":
		return usagef("--test-from applies to train; backtest tests the last --folds steps")
	case *folds < 1:
		return usagef("--folds %d: want at least 1", *folds)
	case fs.NArg() > 0:
		return usagef("unexpected arguments %q", fs.Args())
	case *algo != table.Auto && *algo != models.AlgorithmGBDT && *algo != models.AlgorithmLogReg:
		return usagef("--algo %q: want auto, gbdt or logreg", *algo)
	}
	spec, err := tf.spec(ctx)
	if err != nil {
		return err
	}
	s, plan, err := planFromStore(ctx, tf, spec)
	if err != nil {
		return err
	}
	defer s.Close()
	e, _, err := plan.Collect(ctx, s.Source(store.Shard{}), slog.Default())
	if err != nil {
		return err
	}
	if len(e.AsOf) == 0 {
		return fmt.Errorf("backtest: the %s task kept no rows", spec.Task)
	}
	last := e.AsOf[0]
	for _, t := range e.AsOf {
		if t.After(last) {
			last = t
		}
	}
	// The last window ends just after the last observation, so it holds it.
	windows := trainer.RollingWindows(last.Add(time.Nanosecond), *folds, plan.Back)
	opt := trainer.DefaultOptions()
	opt.Fit.Algorithm, opt.Logger, opt.Bootstrap = *algo, slog.Default(), 200
	b, err := trainer.Backtest(ctx, e, windows, opt)
	if err != nil {
		return err
	}
	if *version > 0 {
		if err := s.SetModelBacktest(ctx, *version, b); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(b)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "fold\ttests\ttrain\tvalid\ttest\tpurged\talgorithm\tAUC\tPR AUC\tlog loss\tBrier\tECE\tlift@10%\trecall@20%\toracle AUC\t")
	for k, f := range b.Folds {
		oracle := "-"
		if f.Oracle != nil {
			oracle = auc(f.Oracle.AUC)
		}
		t := f.Test
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.3f\t%s\t\n", k+1, f.Tested(),
			f.TrainRows, f.ValidRows, f.TestRows, f.Purged, f.Algorithm, t.AUC, t.PRAUC, t.LogLoss, t.Brier, t.ECE, t.Lift, t.Recall, oracle)
	}
	m, oracle := b.Mean, "-"
	if b.MeanOracleAUC != nil {
		oracle = auc(*b.MeanOracleAUC)
	}
	fmt.Fprintf(tw, "mean\t\t\t\t\t\t\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.3f\t%s\t\n", m.AUC, m.PRAUC, m.LogLoss, m.Brier, m.ECE, m.Lift, m.Recall, oracle)
	return tw.Flush()
}
