package features

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// OtherEvents is the key of the per-event family that pools the product
// features outside Config.EventFeatures.
const OtherEvents = "all_other"

// eventMeasure is one value of a per-event family.
type eventMeasure struct {
	suffix, window, unit, missing string
	// describe returns the description for the feature's words.
	describe func(what string) string
}

// eventMeasures are the values of each per-event family, in Vector
// order; duration and errors follow when the configuration asks for them.
var (
	eventMeasures = []eventMeasure{
		{"events_30d", "30d", "events", "",
			func(w string) string { return w + " in the last 30 days" }},
		{"users_30d", "30d", "users", "",
			func(w string) string { return "Distinct users of " + lower(w) + " in the last 30 days" }},
		{"share_30d", "30d", "ratio", "no usage event in the last 30 days",
			func(w string) string { return "Share of the last 30 days' events that are " + lower(w) }},
		{"trend_30d", "60d", "log ratio", "the account is younger than 60 days, or has no accounts row",
			func(w string) string {
				return w + " in the last 30 days against the 30 before, as ln((last+1)/(previous+1))"
			}},
		{"days_since", "all", "days", "never used",
			func(w string) string { return "Days since " + lower(w) + " were last seen" }},
		{"per_seat_30d", "30d", "events per seat", "no paid seats are known",
			func(w string) string { return w + " in the last 30 days per paid seat" }},
	}
	durationMeasure = eventMeasure{"minutes_30d", "30d", "minutes", "",
		func(w string) string { return "Minutes spent in " + lower(w) + " in the last 30 days" }}
	errorsMeasure = eventMeasure{"errors_30d", "30d", "errors", "",
		func(w string) string { return "Errors hit in " + lower(w) + " in the last 30 days" }}
)

// Positions of the measures within a family.
const (
	evCount = iota
	evUsers
	evShare
	evTrend
	evDaysSince
	evPerSeat
	evFixed // the measures every family has; duration and errors follow
)

func lower(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// eventKey turns a product feature into the part of a column name that
// stands for it: lower case, with every character outside [a-z0-9]
// replaced by _.
func eventKey(feature string) string {
	b := []byte(strings.ToLower(feature))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// eventWords names a product feature's events for descriptions.
func eventWords(feature string) string {
	if feature == OtherEvents {
		return "Events of other product features"
	}
	return fmt.Sprintf("%q events", feature)
}

// eventMeasuresOf returns the measures of each family under c.
func (c Config) eventMeasuresOf() []eventMeasure {
	ms := eventMeasures
	if c.EventDuration {
		ms = append(ms[:len(ms):len(ms)], durationMeasure)
	}
	if c.EventErrors {
		ms = append(ms[:len(ms):len(ms)], errorsMeasure)
	}
	return ms
}

// checkEvents refuses a vocabulary whose column names would clash.
func (c Config) checkEvents() error {
	seen := map[string]string{OtherEvents: OtherEvents}
	for _, f := range c.EventFeatures {
		k := eventKey(f)
		if prev, ok := seen[k]; ok {
			return fmt.Errorf("features: event features %q and %q would both be named event_%s", prev, f, k)
		}
		seen[k] = f
	}
	return nil
}

// EventFeatureNames returns the names of the per-event features under c,
// in catalog order; none without a vocabulary.
func (c Config) EventFeatureNames() []string {
	var names []string
	for _, f := range c.eventCatalog() {
		names = append(names, f.Name)
	}
	return names
}

// eventCatalog returns the per-event features under c, family by family:
// one per vocabulary entry, then the pool of the others; none without a
// vocabulary.
func (c Config) eventCatalog() []Feature {
	if len(c.EventFeatures) == 0 {
		return nil
	}
	ms := c.eventMeasuresOf()
	var fs []Feature
	for _, f := range append(c.EventFeatures[:len(c.EventFeatures):len(c.EventFeatures)], OtherEvents) {
		words := eventWords(f)
		for _, m := range ms {
			fs = append(fs, Feature{Name: "event_" + eventKey(f) + "_" + m.suffix, Group: Usage, Window: m.window, Unit: m.unit,
				Description: m.describe(words), Missing: m.missing})
		}
	}
	return fs
}

// eventTotals are the running totals of one per-event family. Counts and
// errors are whole numbers, summed as integers: a float64 sum of them is
// exact up to 2⁵³, so the values are those of summing in float64, at the
// cost of an integer addition per event.
type eventTotals struct {
	count, errors int64
	seconds       float64
}

// events is the builder's state of the per-event families.
//
// Every window a family is read over starts 30 or 60 days before an
// as-of time's first midnight (cursor.start) and ends at the as-of time,
// so the sweep needs a family's totals at those few window starts only,
// not day by day: Build hands the as-of times over first, and the sweep
// keeps one running total per family, copied for every family as it
// passes a window start. An event then costs a few additions, and an
// as-of time a subtraction per family.
//
// Distinct users over the last 30 days are counted as the account's are
// (dayBucket), by "last seen" marks, here in the segments between window
// starts rather than in days: each user marks the segment of its latest
// use of the family and moves the mark when it uses it again in a later
// one, so the users of a window are the marks of the segments after its
// start. A family's users keep that sum for the segments from lo30 on: a
// new mark adds to it, a mark moved away from a segment at or after lo30
// takes from it, and moving lo30 past a segment takes its marks.
type events struct {
	families int              // vocabulary entries plus the pool; 0 without a vocabulary
	measures int              // values per family
	slot     map[string]int32 // vocabulary entry → family
	trends   *[logRatioSize][logRatioSize]float64

	// The current account's sweep.
	starts []int64  // the window starts of the as-of times, in days, ascending and distinct
	passed int      // window starts passed: the segment events are now added to
	i30    int      // starts[i30] and starts[i60] start the current as-of
	i60    int      // time's 30- and 60-day windows
	lo30   int      // first segment of the 30-day window: i30 + 1
	fams   []family // per family
	snaps  []family // per window start passed × family, the state before it
	// marks holds a row of families per segment, segment k's at row k+1;
	// row 0 stands for no segment. A mark is named by its row's offset,
	// (k+1)·families, so that an event indexes with one addition.
	marks []int32
	cur   int32 // the offset of the current segment's row: passed + 1
	from  int32 // the offset of lo30's row
	// userSeg holds, per user × family, the offset of the user's mark, or
	// 0 before the user's first use.
	userSeg []int32
}

// family is the state of one per-event family in a sweep, kept together
// since an event updates all of it.
type family struct {
	eventTotals       // every event read
	last        int64 // latest use, Unix nanoseconds; never when none
	users       int32 // the marks of segments lo30 on
}

func newEvents(c Config) events {
	e := events{slot: make(map[string]int32, len(c.EventFeatures))}
	if len(c.EventFeatures) == 0 {
		return e
	}
	e.families, e.measures = len(c.EventFeatures)+1, len(c.eventMeasuresOf())
	for i, f := range c.EventFeatures {
		e.slot[f] = int32(i)
	}
	e.fams = make([]family, e.families)
	e.trends = logRatios()
	return e
}

// reset empties the state for a sweep of another account as of asOf.
func (e *events) reset(asOf []time.Time) {
	if e.families == 0 {
		return
	}
	// The 60- and 30-day starts each ascend with asOf: merge them.
	e.starts = e.starts[:0]
	add := func(d int64) {
		if n := len(e.starts); n == 0 || e.starts[n-1] < d {
			e.starts = append(e.starts, d)
		}
	}
	for i, j := 0, 0; j < len(asOf); {
		d30 := ceilDiv(asOf[j].UnixNano(), dayNs) - shortWindow
		if i < len(asOf) {
			if d60 := ceilDiv(asOf[i].UnixNano(), dayNs) - trendWindow; d60 <= d30 {
				add(d60)
				i++
				continue
			}
		}
		add(d30)
		j++
	}
	e.passed, e.i30, e.i60, e.lo30 = 0, 0, 0, 0
	e.cur, e.from = int32(e.families), int32(e.families)
	for i := range e.fams {
		e.fams[i] = family{last: never}
	}
	e.snaps = slices.Grow(e.snaps[:0], len(e.starts)*e.families)
	n := (len(e.starts) + 2) * e.families
	e.marks = slices.Grow(e.marks[:0], n)[:n]
	clear(e.marks)
	e.userSeg = e.userSeg[:0]
}

// family returns the family of a product feature: its vocabulary entry,
// or the pool of the others.
func (e *events) family(feature string) int32 {
	if s, ok := e.slot[feature]; ok {
		return s
	}
	return int32(e.families - 1)
}

// addUser makes room for a user just numbered.
func (e *events) addUser() {
	for range e.families {
		e.userSeg = append(e.userSeg, 0)
	}
}

// pass copies the totals at every window start up to day d not passed
// yet. The builder calls it whenever its ring moves to a later day, before
// adding that day's events.
func (e *events) pass(d int64) {
	for ; e.passed < len(e.starts) && e.starts[e.passed] <= d; e.passed++ {
		e.snaps = append(e.snaps, e.fams...)
		e.cur += int32(e.families)
	}
}

// use adds event ev of family s and user u (-1 for none) at Unix
// nanoseconds at, once the builder has passed the window starts up to its
// day (advance).
//
// The user's mark of the family moves to the current segment, which is at
// or after lo30. A mark moved from a segment at or after lo30 leaves the
// family's users unchanged; one from before lo30 (or none) adds a user,
// and the marks of segments before lo30 are never read again, so they are
// left as they are. Whether the user has used the family in the current
// segment before is as good as random, so the move takes no branch: it
// adds moved (1 when the mark moves, else 0) where a branch would add 1.
func (e *events) use(ev *UsageEvent, s, u int32, at int64) {
	f := &e.fams[s]
	f.count += int64(max(ev.Count, 1))
	f.seconds += ev.DurationS
	f.errors += int64(ev.Errors)
	f.last = at
	if u < 0 {
		return
	}
	p := &e.userSeg[int(u)*e.families+int(s)]
	prev, cur := *p, e.cur
	*p = cur
	var moved, stays int32 // whether the mark moves, and stays within lo30 on
	if prev != cur {
		moved = 1
	}
	if prev >= e.from {
		stays = 1
	}
	e.marks[cur+s] += moved
	e.marks[prev+s] -= moved & stays
	f.users += moved &^ stays
}

// window moves the sweep to an as-of time whose first midnight is day
// end: it passes the window starts before it, and returns the totals
// before the starts of its 30- and 60-day windows, per family.
func (e *events) window(end int64) (before30, before60 []family) {
	e.pass(end - 1)
	for e.starts[e.i30] < end-shortWindow {
		e.i30++
	}
	for e.starts[e.i60] < end-trendWindow {
		e.i60++
	}
	for ; e.lo30 <= e.i30; e.lo30++ {
		e.from += int32(e.families)
		for s, m := range e.marks[e.from-int32(e.families) : e.from] {
			e.fams[s].users -= m
		}
	}
	return e.snaps[e.i30*e.families : (e.i30+1)*e.families], e.snaps[e.i60*e.families : (e.i60+1)*e.families]
}

// eventFeatures sets the per-event families, every value of them (Build
// leaves them unset); it reads the seats the commercial step found.
func (b *Builder) eventFeatures(x []float64) {
	e := &b.events
	if e.families == 0 {
		return
	}
	c := &b.cur
	before30, before60 := e.window(c.endDay)
	fams := e.fams
	before30, before60 = before30[:len(fams)], before60[:len(fams)]
	// The share divides by every family's events in the window.
	var total int64
	for s := range fams {
		total += fams[s].count - before30[s].count
	}
	// A family never used has zero totals, which give its values but
	// days since, as for the others: no event in the window gives 0 events,
	// users, minutes and errors, a share of 0 (NaN when the window holds
	// no event at all), a trend of 0 (NaN for an account too young for
	// it), and 0 per seat (NaN without paid seats).
	nan := math.NaN()
	trend, perSeat := nan, nan
	all := float64(total)
	old := c.created <= c.start(trendWindow)
	if old {
		trend = 0
	}
	if c.seats > 0 {
		perSeat = 0
	}
	duration, errs := b.cfg.EventDuration, b.cfg.EventErrors
	m := e.measures
	ys := x[numFeatures : numFeatures+len(fams)*m]
	for s := range fams {
		f, f30, f60 := &fams[s], &before30[s], &before60[s]
		y := ys[:m:m]
		ys = ys[m:]
		_ = y[evPerSeat]
		n30 := f.count - f30.count
		in30 := float64(n30)
		y[evCount], y[evUsers] = in30, float64(f.users)
		y[evShare] = nan
		if total > 0 {
			y[evShare] = in30 / all
		}
		y[evTrend] = trend
		if prev := f30.count - f60.count; old && n30 != prev {
			// Most windows hold a few events of each family: their trends
			// come from the table.
			if uint64(n30) < logRatioSize && uint64(prev) < logRatioSize {
				y[evTrend] = e.trends[n30][prev]
			} else {
				y[evTrend] = logRatio(n30, prev)
			}
		}
		y[evDaysSince] = nan
		if f.last != never {
			y[evDaysSince] = float64(c.tn-f.last) / float64(dayNs)
		}
		y[evPerSeat] = perSeat
		if c.seats > 0 {
			y[evPerSeat] = in30 / c.seats
		}
		more := y[evFixed:]
		if duration {
			more[0] = (f.seconds - f30.seconds) / 60
			more = more[1:]
		}
		if errs {
			more[0] = float64(f.errors - f30.errors)
		}
	}
}

// logRatioSize bounds the counts whose trends logRatios holds.
const logRatioSize = 64

// logRatios holds the trends of the counts below logRatioSize, by
// [last][previous], computed on first use.
var logRatios = sync.OnceValue(func() *[logRatioSize][logRatioSize]float64 {
	var t [logRatioSize][logRatioSize]float64
	for a := range t {
		for p := range t[a] {
			t[a][p] = logRatio(int64(a), int64(p))
		}
	}
	return &t
})

// logRatio returns ln((last+1)/(previous+1)), the trend of a family's
// counts; logRatios holds it for small counts.
func logRatio(last, previous int64) float64 {
	return math.Log((float64(last) + 1) / (float64(previous) + 1))
}
