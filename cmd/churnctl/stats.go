package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// runStats prints row counts and time ranges per table.
func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stats", stderr)
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON (stable field names) instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := s.Stats(ctx)
	if err != nil {
		return fmt.Errorf("%w (has the store been migrated? run churnctl migrate)", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\ttime column\tfrom\tto")
	for _, t := range st.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", t.Table, t.Rows, t.TimeColumn, formatTime(t.MinTime), formatTime(t.MaxTime))
	}
	fmt.Fprintf(tw, "all\t%d\tevents\t%s\t%s\n", st.Rows, formatTime(st.MinTime), formatTime(st.MaxTime))
	return tw.Flush()
}

// formatTime prints an optional time in RFC 3339, or "-" when unset.
func formatTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
