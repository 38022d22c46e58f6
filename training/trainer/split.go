package trainer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/openchurn/churn/models"
)

// Examples are labelled rows with a time. Row i of Data was observed for
// Accounts[i] as of AsOf[i], and its label became known at Known[i].
type Examples struct {
	Data     *models.Dataset
	Accounts []string
	AsOf     []time.Time
	// Known is when each label became known: the end of the row's label
	// window, grace included. It is never before AsOf.
	Known []time.Time
	// Truth holds the true probability of each row's label when the data
	// is simulated, NaN where unknown; nil when there is no truth.
	Truth []float64
	// Early holds the truth as of each row's observation where the
	// simulation has it (see Labels.Early), NaN elsewhere; nil when there
	// is none.
	Early []float64
}

// Validate checks that the slices have one element per row and that no
// label is known before its row was observed.
func (e *Examples) Validate() error {
	n := e.Data.Rows()
	if len(e.Accounts) != n || len(e.AsOf) != n || len(e.Known) != n || (e.Truth != nil && len(e.Truth) != n) || (e.Early != nil && len(e.Early) != n) {
		return fmt.Errorf("trainer: %d rows but %d accounts, %d as-of times, %d label times, %d truths, %d early truths",
			n, len(e.Accounts), len(e.AsOf), len(e.Known), len(e.Truth), len(e.Early))
	}
	if e.Data.Labels == nil {
		return models.ErrNoLabels
	}
	for i := range n {
		if e.Known[i].Before(e.AsOf[i]) {
			return fmt.Errorf("trainer: row %d (%s as of %s): label known at %s, before the row", i, e.Accounts[i],
				e.AsOf[i].Format(time.DateOnly), e.Known[i].Format(time.DateOnly))
		}
	}
	return e.Data.Validate()
}

// Window is one out-of-time evaluation: train on what was known by Cut,
// test on the rows observed in [Cut, End).
type Window struct {
	Cut time.Time `json:"cut"`
	End time.Time `json:"end"`
}

// Split is the rows one Window selects.
type Split struct {
	// Train and Valid are the rows whose labels were known by the cut,
	// split by as-of time at ValidCut: Valid holds the last of them, and
	// Train the earlier ones whose labels were known by ValidCut.
	Train, Valid, Test []int `json:"-"`
	ValidCut           time.Time
	Window             Window
	// Purged counts the rows observed before the cut that were left out
	// because their labels were not yet known at the cut they precede.
	Purged int
}

// ErrEmptySlice is returned, wrapped, by Rows when a cut leaves a slice
// without rows.
var ErrEmptySlice = errors.New("a slice of the split is empty")

// Rows returns the rows of e observed in [w.Cut, w.End) as Test, and
// splits those whose labels were known by w.Cut into Train and Valid:
// Valid is the latest fraction validFrac of them by as-of time, and Train
// the rest whose labels were known by the first validation as-of time.
// Rows sharing an as-of time stay on one side of every cut.
func Rows(e *Examples, w Window, validFrac float64) (Split, error) {
	s := Split{Window: w}
	var known []int
	for i, t := range e.AsOf {
		switch {
		case !t.Before(w.Cut):
			if t.Before(w.End) {
				s.Test = append(s.Test, i)
			}
		case !e.Known[i].After(w.Cut):
			known = append(known, i)
		default:
			s.Purged++
		}
	}
	if len(known) == 0 || len(s.Test) == 0 {
		d := span(e.AsOf)
		return s, fmt.Errorf("trainer: window %s: %d rows known before the cut and %d to test (rows are observed from %s to %s): %w",
			w, len(known), len(s.Test), d.from, d.to, ErrEmptySlice)
	}
	s.ValidCut = quantileTime(e.AsOf, known, 1-validFrac)
	for _, i := range known {
		switch {
		case !e.AsOf[i].Before(s.ValidCut):
			s.Valid = append(s.Valid, i)
		case !e.Known[i].After(s.ValidCut):
			s.Train = append(s.Train, i)
		default:
			s.Purged++
		}
	}
	if len(s.Train) == 0 || len(s.Valid) == 0 {
		return s, fmt.Errorf("trainer: window %s: %d train and %d validation rows; the data spans too little time: %w", w, len(s.Train), len(s.Valid), ErrEmptySlice)
	}
	return s, nil
}

// positives counts the rows whose label is 1.
func positives(labels []float64, rows []int) int {
	n := 0
	for _, i := range rows {
		if labels[i] == 1 {
			n++
		}
	}
	return n
}

// String formats w as [cut, end).
func (w Window) String() string {
	end := "end"
	if !w.End.Equal(maxTime) {
		end = w.End.Format(time.DateOnly)
	}
	return "[" + w.Cut.Format(time.DateOnly) + ", " + end + ")"
}

// maxTime is the End of a window open to the right.
var maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// TestWindow returns the window of Train's test slice: from opt.TestFrom
// to the end when it is set, and HoldoutWindow(e, opt.TestFraction)
// otherwise. Either way the training and validation rows are those whose
// labels were known at the cut (Rows).
func TestWindow(e *Examples, opt Options) Window {
	if !opt.TestFrom.IsZero() {
		return Window{Cut: opt.TestFrom, End: maxTime}
	}
	return HoldoutWindow(e, opt.TestFraction)
}

// dates are the first and last of some times, as dates.
type dates struct{ from, to string }

// span returns the first and last of ts.
func span(ts []time.Time) dates {
	if len(ts) == 0 {
		return dates{"none", "none"}
	}
	lo, hi := ts[0], ts[0]
	for _, t := range ts {
		if t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	return dates{lo.Format(time.DateOnly), hi.Format(time.DateOnly)}
}

// HoldoutWindow returns the window of Train's test slice: from the as-of
// time at which the latest fraction testFrac of the rows begins, to the
// end.
func HoldoutWindow(e *Examples, testFrac float64) Window {
	all := make([]int, len(e.AsOf))
	for i := range all {
		all[i] = i
	}
	return Window{Cut: quantileTime(e.AsOf, all, 1-testFrac), End: maxTime}
}

// RollingWindows returns k consecutive, adjacent windows, the last ending
// at end: the last is [back(end), end), the one before it
// [back(back(end)), back(end)), and so on. back steps a time one window
// back, e.g. by a calendar month.
func RollingWindows(end time.Time, k int, back func(time.Time) time.Time) []Window {
	ws := make([]Window, k)
	for i := k - 1; i >= 0; i-- {
		ws[i] = Window{Cut: back(end), End: end}
		end = ws[i].Cut
	}
	return ws
}

// quantileTime returns the as-of time at which the latest fraction 1−q of
// rows begins: rows before it are earlier, rows at or after it later.
// When that time is the earliest, it returns the next distinct time, if
// any, so that the earlier side is not empty.
func quantileTime(asOf []time.Time, rows []int, q float64) time.Time {
	ts := make([]time.Time, len(rows))
	for k, i := range rows {
		ts[k] = asOf[i]
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	k := min(max(int(math.Ceil(q*float64(len(ts)))), 0), len(ts)-1)
	if ts[k].Equal(ts[0]) {
		if i := slices.IndexFunc(ts, func(t time.Time) bool { return t.After(ts[0]) }); i > 0 {
			k = i
		}
	}
	return ts[k]
}
