package dataset

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
)

// Writer writes rows as CSV; see the package documentation for the
// columns. Call Flush at the end.
type Writer struct {
	w        *bufio.Writer
	catalog  []features.Feature
	labelled bool
	buf      []byte
}

// NewWriter returns a Writer of the vectors built under cfg, with a label
// column when labelled is true. It writes the header at once.
func NewWriter(w io.Writer, cfg features.Config, labelled bool) (*Writer, error) {
	catalog, err := cfg.Catalog()
	if err != nil {
		return nil, err
	}
	cw := &Writer{w: bufio.NewWriterSize(w, 1<<16), catalog: catalog, labelled: labelled}
	cw.buf = append(cw.buf, "account_id,as_of"...)
	for _, f := range catalog {
		cw.buf = append(append(cw.buf, ','), f.Name...)
	}
	if labelled {
		cw.buf = append(cw.buf, ",label"...)
	}
	cw.buf = append(cw.buf, '\n')
	_, err = cw.w.Write(cw.buf)
	return cw, err
}

// Write writes the batch's rows.
func (cw *Writer) Write(b *Batch) error {
	for i := range b.Vectors {
		v := &b.Vectors[i]
		if len(v.Values) != len(cw.catalog) {
			return fmt.Errorf("writing %s as of %s: vector of catalog %s has %d values, want %d",
				v.AccountID, v.AsOf.Format(time.RFC3339), v.Version, len(v.Values), len(cw.catalog))
		}
		buf := appendField(cw.buf[:0], v.AccountID)
		buf = v.AsOf.UTC().AppendFormat(append(buf, ','), time.RFC3339)
		for j, x := range v.Values {
			buf = append(buf, ',')
			f := &cw.catalog[j]
			switch {
			case math.IsNaN(x):
			case f.Kind == models.Categorical:
				buf = appendField(buf, f.Categories[int(x)])
			default:
				buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
			}
		}
		if cw.labelled {
			buf = strconv.AppendFloat(append(buf, ','), b.Labels[i], 'g', -1, 64)
		}
		cw.buf = append(buf, '\n')
		if _, err := cw.w.Write(cw.buf); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes any buffered data.
func (cw *Writer) Flush() error { return cw.w.Flush() }

// appendField appends s as a CSV field, quoted when it must be.
func appendField(buf []byte, s string) []byte {
	quote := false
	for i := 0; i < len(s) && !quote; i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			quote = true
		}
	}
	if !quote {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, s[i])
	}
	return append(buf, '"')
}
