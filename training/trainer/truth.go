package trainer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/openchurn/churn/training/simulate"
)

// Truth holds a simulation's ground truth, as package simulate writes it:
// each paying account's probability of churning in each calendar month,
// and each decided trial's probability of converting; and, when the
// simulation wrote them, the same as of the month's first day and of
// trial day 7 (simulate.TruthChurnStartFile).
type Truth struct {
	churn, churnStart          map[churnKey]float64
	conversion, conversionWeek map[string]float64
}

type churnKey struct {
	account string
	month   string // YYYY-MM
}

// ReadTruth reads simulate.TruthChurnFile, simulate.TruthConversionFile
// and the early truth files from dir. A missing file leaves that task
// without that truth; a malformed one is an error.
func ReadTruth(ctx context.Context, dir string) (*Truth, error) {
	t := &Truth{churn: map[churnKey]float64{}, churnStart: map[churnKey]float64{},
		conversion: map[string]float64{}, conversionWeek: map[string]float64{}}
	for name, m := range map[string]map[churnKey]float64{simulate.TruthChurnFile: t.churn, simulate.TruthChurnStartFile: t.churnStart} {
		err := readTruthFile(ctx, filepath.Join(dir, name), 3, func(rec []string) error {
			p, err := strconv.ParseFloat(rec[2], 64)
			m[churnKey{rec[0], rec[1]}] = p
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for name, m := range map[string]map[string]float64{simulate.TruthConversionFile: t.conversion, simulate.TruthConversionWeekFile: t.conversionWeek} {
		err := readTruthFile(ctx, filepath.Join(dir, name), 2, func(rec []string) error {
			p, err := strconv.ParseFloat(rec[1], 64)
			m[rec[0]] = p
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// readTruthFile calls fn with every record after the header of a CSV file
// of fields columns; a missing file is not an error.
func readTruthFile(ctx context.Context, path string, fields int, fn func([]string) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading truth: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = fields
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		return fmt.Errorf("reading truth %s: header: %w", path, err)
	}
	for n := 0; ; n++ {
		if n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err == nil {
			err = fn(rec)
		}
		if err != nil {
			line, _ := r.FieldPos(0)
			return fmt.Errorf("reading truth %s:%d: %w", path, line, err)
		}
	}
}

// Churn returns the probability that account churns in the calendar month
// of t, and whether the truth has it.
func (t *Truth) Churn(account string, month time.Time) (float64, bool) {
	p, ok := t.churn[churnKey{account, month.UTC().Format("2006-01")}]
	return p, ok
}

// Conversion returns the probability that account's trial converts, and
// whether the truth has it.
func (t *Truth) Conversion(account string) (float64, bool) {
	p, ok := t.conversion[account]
	return p, ok
}

// HasEarly reports whether t holds truth as of the default observations.
func (t *Truth) HasEarly() bool { return len(t.churnStart) > 0 || len(t.conversionWeek) > 0 }

// ChurnAtStart returns the probability that account churns in the
// calendar month of t on its signals as of the month's first day, and
// whether the truth has it.
func (t *Truth) ChurnAtStart(account string, month time.Time) (float64, bool) {
	p, ok := t.churnStart[churnKey{account, month.UTC().Format("2006-01")}]
	return p, ok
}

// ConversionAtWeek returns the probability that account's trial converts
// on its signals as of trial day 7, and whether the truth has it.
func (t *Truth) ConversionAtWeek(account string) (float64, bool) {
	p, ok := t.conversionWeek[account]
	return p, ok
}
