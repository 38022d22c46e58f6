package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/trainer"
)

// runModels lists, shows, activates and retires registered models.
func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("models", stderr)
	db := dbFlag(fs)
	task := fs.String("task", "", "list: only this task's models")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl models list|show VERSION|activate VERSION|retire VERSION [flags]\n\n"+
			"activate makes a model the active one of its task and retires the one it replaces:\n"+
			"activating an earlier version rolls back to it.\n\nFlags:")
		fs.PrintDefaults()
	}
	// The subcommand comes first; flags and the version follow it.
	var sub string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch sub {
	case "list", "show", "activate", "retire":
	case "":
		return usagef("want a subcommand: list, show, activate or retire")
	default:
		return usagef("unknown subcommand %q: want list, show, activate or retire", sub)
	}
	rest := fs.Args()
	var version int64
	if sub != "list" {
		if len(rest) != 1 {
			return usagef("%s wants one model version", sub)
		}
		v, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil || v < 1 {
			return usagef("model version %q: want a positive integer", rest[0])
		}
		version = v
	} else if len(rest) > 0 {
		return usagef("unexpected arguments %q", rest)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	switch sub {
	case "list":
		ms, err := s.Models(ctx, *task)
		if err != nil {
			return err
		}
		if *asJSON {
			if ms == nil {
				ms = []trainer.RegisteredModel{}
			}
			return json.NewEncoder(stdout).Encode(ms)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tTASK\tALGORITHM\tSTATE\tTEST AUC\tWINDOW\tCREATED")
		for _, m := range ms {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s – %s\t%s\n", m.Version, m.Task, m.Algorithm, m.State, auc(m.TestAUC),
				m.WindowStart.Format(time.DateOnly), m.WindowEnd.Format(time.DateOnly), m.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "show":
		m, err := s.Model(ctx, version)
		if err != nil {
			return err
		}
		a, err := models.DecodeArtifact(bytes.NewReader(m.Artifact))
		if err != nil {
			return fmt.Errorf("model %d: %w", version, err)
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(struct {
				trainer.RegisteredModel
				Metadata models.Metadata `json:"artifact_metadata"`
			}{*m, a.Metadata})
		}
		fmt.Fprintf(stdout, "model %d: %s, %s, %s since %s\n", m.Version, m.Task, m.Algorithm, m.State, m.StateAt.Format(time.RFC3339))
		fmt.Fprintf(stdout, "  created %s; data %s – %s; %d training rows; %d features\n", m.CreatedAt.Format(time.RFC3339),
			m.WindowStart.Format(time.DateOnly), m.WindowEnd.Format(time.DateOnly), a.Metadata.Rows, len(a.Schema()))
		fmt.Fprintf(stdout, "  artifact sha256 %s (verified)\n", m.Checksum)
		fmt.Fprintf(stdout, "  test AUC %s\n", auc(m.TestAUC))
		if r := m.Record; r.Task == trainer.TaskChurn {
			fmt.Fprintf(stdout, "  %s; grace %s\n", r.Outcome(), dataset.FormatDuration(time.Duration(r.Grace)))
		}
		if r := m.Record.Result; r != nil {
			doc, err := json.Marshal(r.Evaluation)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  metrics %s\n", doc)
		}
		if m.Backtest != nil {
			doc, err := json.Marshal(m.Backtest)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  backtest %s\n", doc)
		}
		return nil
	case "activate":
		prev, err := s.ActivateModel(ctx, version)
		if err != nil {
			return err
		}
		if prev != nil {
			fmt.Fprintf(stdout, "model %d is active; model %d retired\n", version, prev.Version)
		} else {
			fmt.Fprintf(stdout, "model %d is active\n", version)
		}
		return nil
	case "retire":
		if err := s.RetireModel(ctx, version); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "model %d retired\n", version)
		return nil
	}
	return usagef("unknown subcommand %q: want list, show, activate or retire", sub)
}

// auc formats a test AUC, which may be unknown.
func auc(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
