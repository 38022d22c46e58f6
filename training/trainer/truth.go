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
// and each decided trial's probability of converting.
type Truth struct {
	churn      map[churnKey]float64
	conversion map[string]float64
}

type churnKey struct {
	account string
	month   string // YYYY-MM
}

// ReadTruth reads simulate.TruthChurnFile and simulate.TruthConversionFile
// from dir. A missing file leaves that task without truth; a malformed one
// is an error.
func ReadTruth(ctx context.Context, dir string) (*Truth, error) {
	t := &Truth{churn: map[churnKey]float64{}, conversion: map[string]float64{}}
	err := readTruthFile(ctx, filepath.Join(dir, simulate.TruthChurnFile), 3, func(rec []string) error {
		p, err := strconv.ParseFloat(rec[2], 64)
		t.churn[churnKey{rec[0], rec[1]}] = p
		return err
	})
	if err != nil {
		return nil, err
	}
	err = readTruthFile(ctx, filepath.Join(dir, simulate.TruthConversionFile), 2, func(rec []string) error {
		p, err := strconv.ParseFloat(rec[1], 64)
		t.conversion[rec[0]] = p
		return err
	})
	if err != nil {
		return nil, err
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
