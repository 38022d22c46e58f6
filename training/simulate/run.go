package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/internal/pipeline"
)

// DefaultStart is the start date used when Config.Start is zero.
var DefaultStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultTrialWindow is the number of days over which trials arrive when
// Config.TrialWindow is zero.
const DefaultTrialWindow = 365

// Names of the ground-truth files. The canonical tables are written to
// FileName(t).
//
// TruthChurnStartFile and TruthConversionWeekFile hold the truth as of the
// times a model observes by default, which is what a model that sees the
// records only up to then can approach: the churn probability of each
// month had its decisions been taken on the signals as they stood when the
// month began, and each decided trial's conversion probability on its
// signals as they stood at the start of trial day 7. The truth proper is
// decided later, on the signals of the decision day, which carry what
// happened in between.
const (
	TruthChurnFile          = "truth_churn.csv"
	TruthConversionFile     = "truth_conversion.csv"
	TruthChurnStartFile     = "truth_churn_start.csv"
	TruthConversionWeekFile = "truth_conversion_week1.csv"
)

// EarlyTrialDay is the trial day TruthConversionWeekFile is as of.
const EarlyTrialDay = 7

// FileName returns the name of the file that holds table t, e.g.
// usage_events.csv.
func FileName(t features.Table) string { return string(t) + ".csv" }

// Config sets up a simulation.
type Config struct {
	// Accounts is the number of accounts, existing customers and trials
	// together. Trials arriving after the end are not written, so a run
	// shorter than TrialWindow writes fewer.
	Accounts int
	// Months is the length of the history, from Start.
	Months int
	// Seed selects the history: equal configurations give byte-identical
	// output.
	Seed uint64
	// Start is the first day of the history, on day 1 to 28 of a month so
	// that every simulated month starts on the same day. It is truncated to
	// midnight UTC; zero means DefaultStart.
	Start time.Time
	// TrialWindow is the number of days from Start over which self-serve
	// trials arrive, uniformly; zero means DefaultTrialWindow. It is
	// independent of Months so that longer runs extend shorter ones.
	TrialWindow int
	// Workers is the number of goroutines simulating accounts; zero means
	// GOMAXPROCS. It does not change the output.
	Workers int
}

// Validate reports the first invalid field of c.
func (c Config) Validate() error {
	switch {
	case c.Accounts < 0:
		return fmt.Errorf("accounts %d is negative", c.Accounts)
	case c.Months < 1 || c.Months > 1200:
		return fmt.Errorf("months %d is not between 1 and 1200", c.Months)
	case c.TrialWindow < 0:
		return fmt.Errorf("trial window %d is negative", c.TrialWindow)
	case c.Workers < 0:
		return fmt.Errorf("workers %d is negative", c.Workers)
	case c.Start.UTC().Day() > 28:
		// Months from the 29th on would skip or repeat a calendar month.
		return fmt.Errorf("start %s is after the 28th of its month", c.Start.UTC().Format(time.DateOnly))
	}
	return nil
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	y, m, d := c.Start.UTC().Date()
	c.Start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if c.TrialWindow == 0 {
		c.TrialWindow = DefaultTrialWindow
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	return c, nil
}

// End returns the instant the history ends (exclusive): Start, or
// DefaultStart, plus Months. It returns the zero time if c is invalid.
func (c Config) End() time.Time {
	c, err := c.withDefaults()
	if err != nil {
		return time.Time{}
	}
	return c.Start.AddDate(0, c.Months, 0)
}

// Stats counts what a run wrote.
type Stats struct {
	// Rows holds the number of data rows (without header) per file name.
	Rows map[string]int64
}

// outputs lists the files of a run in the order of a chunk's buffers.
var outputs = []string{
	FileName(features.Accounts), FileName(features.UsageEvents), FileName(features.Tickets),
	FileName(features.Escalations), FileName(features.SurveyResponses), FileName(features.BillingChanges),
	FileName(features.Spends), TruthChurnFile, TruthConversionFile, TruthChurnStartFile, TruthConversionWeekFile,
}

const (
	outAccounts = iota
	outUsage
	outTickets
	outEscalations
	outSurveys
	outBilling
	outSpend
	outTruthChurn
	outTruthConversion
	outTruthChurnStart
	outTruthConversionWeek
	numOutputs
)

// header returns the header line of output i.
func header(i int) []byte {
	switch i {
	case outTruthChurn, outTruthChurnStart:
		return []byte("account_id,month,churn_probability\n")
	case outTruthConversion, outTruthConversionWeek:
		return []byte("account_id,conversion_probability\n")
	case outSpend:
		return recordio.AppendHeader(nil, features.Spends)
	case outAccounts:
		h := recordio.AppendHeader(nil, features.Accounts)
		return append(h[:len(h)-1], ",attr_channel\n"...)
	}
	return recordio.AppendHeader(nil, features.Tables[i])
}

// Generate simulates cfg and writes the canonical tables into dir as
// FileName(t), loadable by churnctl ingest, and the ground truth into
// truthDir as TruthChurnFile and TruthConversionFile. The truth lives in
// its own directory because it is hidden from what a model may read, and
// because ingest refuses files that hold no canonical table; an empty
// truthDir skips it. Directories are created as needed and existing files
// replaced; after an error the files are incomplete.
func Generate(ctx context.Context, cfg Config, dir, truthDir string) (Stats, error) {
	out := make(map[string]io.Writer, len(outputs))
	var opened []*os.File
	closeAll := func() error {
		var errs []error
		for _, f := range opened {
			if err := f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing %s: %w", f.Name(), err))
			}
		}
		return errors.Join(errs...)
	}
	for i, name := range outputs {
		d := dir
		if i >= outTruthChurn {
			if truthDir == "" {
				continue
			}
			d = truthDir
		}
		f, err := create(d, name)
		if err != nil {
			_ = closeAll() // the create error is the one to report
			return Stats{}, err
		}
		opened = append(opened, f)
		out[name] = f
	}
	stats, err := Run(ctx, cfg, out)
	if cerr := closeAll(); err == nil {
		err = cerr
	}
	return stats, err
}

func create(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("creating output: %w", err)
	}
	return f, nil
}

// Run simulates cfg and writes each output, header first, to the writer
// that out maps its file name to (see FileName, TruthChurnFile and
// TruthConversionFile); outputs missing from out are not produced. Rows
// come in account order, and in time order within an account.
//
// Accounts are simulated in parallel on cfg.Workers goroutines; the
// output does not depend on their number or scheduling.
func Run(ctx context.Context, cfg Config, out map[string]io.Writer) (Stats, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Stats{}, fmt.Errorf("simulation config: %w", err)
	}
	var writers [numOutputs]io.Writer
	for name, w := range out {
		i := outputIndex(name)
		if i < 0 {
			return Stats{}, fmt.Errorf("unknown simulation output %q (want one of %v)", name, outputs)
		}
		writers[i] = w
	}
	stats := Stats{Rows: make(map[string]int64, numOutputs)}
	for i, w := range writers {
		if w == nil {
			continue
		}
		if _, err := w.Write(header(i)); err != nil {
			return stats, fmt.Errorf("writing %s: %w", outputs[i], err)
		}
		stats.Rows[outputs[i]] = 0
	}

	s := newSim(cfg)
	acq := acquisitions{}
	nChunks := (cfg.Accounts + chunkSize - 1) / chunkSize
	// Chunks are simulated on cfg.Workers goroutines and written in
	// order; the pipeline bounds those simulated but not yet written, and
	// so the memory held, and reuses their buffers, which grow to a
	// chunk's size.
	read := func(_ context.Context, put pipeline.Put[chunk]) error {
		for i := range nChunks {
			if err := put(func(c *chunk) { c.index = i }); err != nil {
				return fmt.Errorf("simulating accounts: %w", err)
			}
		}
		return nil
	}
	accts := make([]acct, cfg.Workers)
	simulate := func(w int, c *chunk) error {
		c.reset(&writers)
		for idx := c.index * chunkSize; idx < min((c.index+1)*chunkSize, cfg.Accounts); idx++ {
			accts[w].simulate(s, uint64(idx), c)
		}
		return nil
	}
	write := func(c *chunk) error {
		for j, w := range writers {
			if w == nil {
				continue
			}
			if _, err := w.Write(c.bufs[j]); err != nil {
				return fmt.Errorf("writing %s: %w", outputs[j], err)
			}
			stats.Rows[outputs[j]] += c.rows[j]
		}
		for k, n := range c.acq {
			acq[k] += n
		}
		return nil
	}
	if err := pipeline.Run(ctx, pipeline.Options{Workers: cfg.Workers}, read, simulate, write); err != nil {
		return stats, err
	}
	// Spend follows from the whole history's acquisitions, so it is
	// written last.
	if w := writers[outSpend]; w != nil {
		b, rows := appendSpend(nil, s, acq)
		if _, err := w.Write(b); err != nil {
			return stats, fmt.Errorf("writing %s: %w", outputs[outSpend], err)
		}
		stats.Rows[outputs[outSpend]] += rows
	}
	return stats, nil
}

func outputIndex(name string) int {
	for i, o := range outputs {
		if o == name {
			return i
		}
	}
	return -1
}

// chunkSize is the number of accounts a worker simulates at a time: big
// enough to amortise the hand-over, small enough to keep memory bounded.
const chunkSize = 128

// sim holds what all accounts of a run share. It is read-only.
type sim struct {
	seed        uint64
	cal         *calendar
	trialWindow int
}

func newSim(cfg Config) *sim {
	return &sim{seed: cfg.Seed, cal: newCalendar(cfg.Start, cfg.Months), trialWindow: cfg.TrialWindow}
}

// supportLoad returns the factor by which first responses are slower in
// the week of day d. Most weeks are normal; some are understaffed, which
// every account feels at once.
func (s *sim) supportLoad(d int) float64 {
	r := newRNG(s.seed, 0, floorDiv(int64(d), 7), streamSupport)
	load := math.Exp(0.15 * r.normal())
	if r.bernoulli(0.12) {
		load *= 2.2
	}
	return load
}

// chunk is a sink that encodes records as CSV into one buffer per output.
// Outputs nobody reads are skipped.
type chunk struct {
	index int // the chunk holds accounts index×chunkSize onwards
	bufs  [numOutputs][]byte
	rows  [numOutputs]int64
	want  [numOutputs]bool
	acq   acquisitions
}

func (c *chunk) reset(writers *[numOutputs]io.Writer) {
	for i := range c.bufs {
		c.bufs[i] = c.bufs[i][:0]
		c.rows[i] = 0
		c.want[i] = writers[i] != nil
	}
	clear(c.acq)
}

// appendRow encodes r into output out when that output is wanted.
func appendRow[R any](c *chunk, out int, encode func([]byte, *R) []byte, r *R) {
	if c.want[out] {
		c.bufs[out] = encode(c.bufs[out], r)
		c.rows[out]++
	}
}

func (c *chunk) account(a *features.Account)  { appendRow(c, outAccounts, appendAccountRow, a) }
func (c *chunk) usage(e *features.UsageEvent) { appendRow(c, outUsage, recordio.AppendUsageEvent, e) }
func (c *chunk) ticket(t *features.Ticket)    { appendRow(c, outTickets, recordio.AppendTicket, t) }
func (c *chunk) escalation(e *features.Escalation) {
	appendRow(c, outEscalations, recordio.AppendEscalation, e)
}
func (c *chunk) survey(r *features.SurveyResponse) {
	appendRow(c, outSurveys, recordio.AppendSurveyResponse, r)
}
func (c *chunk) billing(b *features.BillingChange) {
	appendRow(c, outBilling, recordio.AppendBillingChange, b)
}

func (c *chunk) acquired(ch int, at time.Time) {
	if c.want[outSpend] {
		if c.acq == nil {
			c.acq = acquisitions{}
		}
		c.acq[[2]int{monthKey(at), ch}]++
	}
}

func (c *chunk) churnTruth(id string, period time.Time, p, atStart float64) {
	c.truthRow(outTruthChurn, id, period, p)
	c.truthRow(outTruthChurnStart, id, period, atStart)
}

func (c *chunk) conversionTruth(id string, p, atWeek float64) {
	c.truthRow(outTruthConversion, id, time.Time{}, p)
	c.truthRow(outTruthConversionWeek, id, time.Time{}, atWeek)
}

// truthRow appends a row to the truth output out when it is wanted: the
// account, the month of period unless it is zero, and p.
func (c *chunk) truthRow(out int, id string, period time.Time, p float64) {
	if !c.want[out] {
		return
	}
	b := append(append(c.bufs[out], id...), ',')
	if !period.IsZero() {
		b = append(period.AppendFormat(b, "2006-01"), ',')
	}
	b = strconv.AppendFloat(b, p, 'f', 6, 64)
	c.bufs[out] = append(b, '\n')
	c.rows[out]++
}
