package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/serving"
)

// RowError is one invalid record of an ingestion request. Row counts from
// 1: the element of a JSON array or the line of NDJSON.
type RowError struct {
	Row    int    `json:"row"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// maxRowErrors bounds the row errors one response lists.
const maxRowErrors = 100

// ingest stores a JSON array or NDJSON body of table's records in one
// transaction, through recordio's decoder and store.Load, exactly as
// churnctl ingest does: the same validation, and the same idempotency
// (a record with a stored key replaces it only when it differs). A body
// with any invalid record stores nothing and is answered 422 with the
// errors of every invalid row, up to 100. A key given twice in the body is
// refused the same way, unless ?duplicates=last keeps the last row.
func (s *Server) ingest(c echo.Context) error {
	t, err := features.ParseTable(c.Param("table"))
	if err != nil {
		return errorf(http.StatusNotFound, "not_found", err.Error(), nil)
	}
	var opts load.Options
	switch d := c.QueryParam("duplicates"); d {
	case "", "refuse":
	case "last":
		opts.LastWins = true
	default:
		return errorf(http.StatusBadRequest, "bad_request", fmt.Sprintf("duplicates=%q: want refuse (the default) or last", d), nil)
	}
	// Strict refuses fields that are not columns of the table, and rows
	// for accounts no accounts row knows, which are otherwise stored and
	// named in the answer.
	strict, err := queryBool(c, "strict", false)
	if err != nil {
		return err
	}
	opts.Strict = strict
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *echo.HTTPError
		if errors.As(err, &tooLarge) {
			return tooLarge
		}
		return errorf(http.StatusBadRequest, "bad_request", "reading the body: "+err.Error(), nil)
	}
	lines, err := ndjson(body)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_request", err.Error(), nil)
	}
	if len(lines) == 0 {
		return errorf(http.StatusBadRequest, "bad_request", "the body holds no records", nil)
	}
	if rowErrs := validate(t, lines); len(rowErrs) > 0 {
		return errorf(http.StatusUnprocessableEntity, "invalid_records",
			fmt.Sprintf("%d or more records are invalid; nothing was stored", len(rowErrs)), map[string]any{"rows": rowErrs})
	}
	d, err := recordio.NewDecoder(bytes.NewReader(bytes.Join(lines, []byte{'\n'})), "request", t, recordio.NDJSON, nil)
	if err != nil {
		return err
	}
	if strict {
		d.RefuseUnknown()
	}
	ctx := c.Request().Context()
	res, err := s.store.LoadWith(ctx, t, d, opts)
	var rerr *recordio.Error
	if errors.As(err, &rerr) {
		// Valid rows that clash within the body, such as a repeated key.
		re := RowError{Row: rerr.Line, Reason: rerr.Err.Error()}
		var fe *features.FieldError
		if errors.As(err, &fe) {
			re.Field, re.Reason = fe.Field, fe.Reason
		}
		return errorf(http.StatusUnprocessableEntity, "invalid_records", "a record clashes with another; nothing was stored",
			map[string]any{"rows": []RowError{re}})
	}
	if err != nil {
		return err
	}
	s.metrics.ingested.WithLabelValues(string(t)).Add(float64(res.Read))
	out := map[string]any{"result": loadView{Table: string(res.Table), Read: res.Read, Inserted: res.Inserted,
		Updated: res.Updated, Unchanged: res.Unchanged, Merged: res.Merged, Superseded: res.Superseded,
		Orphans:        orphansView{Rows: res.Orphans.Rows, Accounts: res.Orphans.Accounts, First: res.Orphans.First},
		StartsInferred: res.StartsInferred}, "alerts_opened": 0}
	if ignored := d.Ignored(); len(ignored) > 0 {
		out["ignored_fields"] = ignored
	}
	if s.alerts != nil {
		opened, err := serving.AfterIngest(ctx, s.store, s.alerts, t)
		if err != nil {
			return err
		}
		out["alerts_opened"] = len(opened)
	}
	return c.JSON(http.StatusOK, out)
}

// ndjson splits a body into one JSON object per element: the elements of
// a JSON array, or the non-blank lines of NDJSON.
func ndjson(body []byte) ([][]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return nil, fmt.Errorf("the body is not a JSON array of objects: %v", err)
		}
		lines := make([][]byte, len(elems))
		for i, e := range elems {
			var b bytes.Buffer
			if err := json.Compact(&b, e); err != nil {
				return nil, fmt.Errorf("row %d: %v", i+1, err)
			}
			lines[i] = b.Bytes()
		}
		return lines, nil
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), len(body)+1)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines, sc.Err()
}

// validate decodes every line on its own with recordio's decoder, which
// stops at a file's first bad line, so that a response can list every
// bad row rather than the first.
func validate(t features.Table, lines [][]byte) []RowError {
	var errs []RowError
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		d, err := recordio.NewDecoder(bytes.NewReader(line), "request", t, recordio.NDJSON, nil)
		if err == nil {
			_, err = d.Next()
		}
		if err == nil || err == io.EOF {
			continue
		}
		re := RowError{Row: i + 1, Reason: err.Error()}
		var fe *features.FieldError
		if errors.As(err, &fe) {
			re.Field, re.Reason = fe.Field, fe.Reason
		}
		var rerr *recordio.Error
		if re.Field == "" && errors.As(err, &rerr) {
			re.Reason = rerr.Err.Error()
		}
		if errs = append(errs, re); len(errs) == maxRowErrors {
			break
		}
	}
	return errs
}
