package features

import (
	"fmt"
	"math"
	"strings"
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

// eventTotals are the running totals of one per-event family.
type eventTotals struct{ count, seconds, errors float64 }

func (t eventTotals) minus(u eventTotals) eventTotals {
	return eventTotals{t.count - u.count, t.seconds - u.seconds, t.errors - u.errors}
}

// eventDay is a day of use of a family and the family's running totals
// up to and including it.
type eventDay struct {
	day int64
	cum eventTotals
}

// eventDays is one family's days of use in time order, queried through
// window bounds that only move forward, as series are: a sweep costs
// O(events + families × observations).
type eventDays struct {
	days       []eventDay
	lo30, lo60 int // first days in the last 30 and 60 days
}

// before returns the totals of the days before position i.
func (e *eventDays) before(i int) eventTotals {
	if i == 0 {
		return eventTotals{}
	}
	return e.days[i-1].cum
}

// events is the builder's state of the per-event families.
type events struct {
	families int              // vocabulary entries plus the pool; 0 without a vocabulary
	measures int              // values per family
	slot     map[string]int32 // vocabulary entry → family
	featSlot []int32          // family of each product feature the builder numbered
	days     []eventDays      // per family
	last     []int64          // latest use per family, Unix nanoseconds; never when none
	// Distinct users per family over a window are sums of "last seen"
	// marks in daily buckets, as for the account's users (dayBucket).
	lastUser []int32 // ringDays × families, by day then family
	userLast []int64 // latest day of use per user × family
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
	e.days = make([]eventDays, e.families)
	e.last = make([]int64, e.families)
	e.lastUser = make([]int32, ringDays*e.families)
	return e
}

// reset empties the state for another account.
func (e *events) reset() {
	for i := range e.days {
		d := &e.days[i]
		d.days, d.lo30, d.lo60 = d.days[:0], 0, 0
	}
	for i := range e.last {
		e.last[i] = never
	}
	clear(e.lastUser)
	e.userLast = e.userLast[:0]
}

// number gives product feature f, just numbered by the builder, its
// family.
func (e *events) number(feature string) {
	s, ok := e.slot[feature]
	if !ok {
		s = int32(e.families - 1)
	}
	e.featSlot = append(e.featSlot, s)
}

// addUser makes room for a user just numbered.
func (e *events) addUser() {
	for range e.families {
		e.userLast = append(e.userLast, never)
	}
}

// clearDays empties the user marks of days from to to, at most ringDays
// of them: one or two runs of the ring.
func (e *events) clearDays(from, to int64) {
	if e.families == 0 {
		return
	}
	i, j := int(from&ringMask)*e.families, int(to&ringMask+1)*e.families
	if i < j {
		clear(e.lastUser[i:j])
		return
	}
	clear(e.lastUser[i:])
	clear(e.lastUser[:j])
}

// use adds event ev of product feature f and user u (-1 for none) on day
// d at Unix nanoseconds at.
func (e *events) use(ev *UsageEvent, f, u int32, d, at int64) {
	s := int(e.featSlot[f])
	ds := &e.days[s]
	n := len(ds.days)
	if n == 0 || ds.days[n-1].day != d {
		ds.days = append(ds.days, eventDay{day: d, cum: ds.before(n)})
		n++
	}
	c := &ds.days[n-1].cum
	c.count += float64(max(ev.Count, 1))
	c.seconds += ev.DurationS
	c.errors += float64(ev.Errors)
	e.last[s] = at
	if u < 0 {
		return
	}
	p := &e.userLast[int(u)*e.families+s]
	if *p == d {
		return
	}
	e.lastUser[int(d&ringMask)*e.families+s]++
	if *p != never && d-*p < ringDays {
		e.lastUser[int(*p&ringMask)*e.families+s]--
	}
	*p = d
}

// eventFeatures sets the per-event families; it reads the seats the
// commercial step found.
func (b *Builder) eventFeatures(x []float64) {
	e := &b.events
	if e.families == 0 {
		return
	}
	c := &b.cur
	end := c.endDay
	from := max(end-shortWindow, b.day-ringMask)
	old := c.created <= c.start(trendWindow)
	var total float64
	for s := range e.families {
		ds := &e.days[s]
		y := x[numFeatures+s*e.measures : numFeatures+(s+1)*e.measures]
		if len(ds.days) == 0 {
			// Never used: no window to read.
			for k := range y {
				y[k] = 0
			}
			y[evDaysSince], y[evTrend], y[evPerSeat] = math.NaN(), math.NaN(), math.NaN()
			if old {
				y[evTrend] = 0
			}
			if c.seats > 0 {
				y[evPerSeat] = 0
			}
			continue
		}
		for ds.lo30 < len(ds.days) && ds.days[ds.lo30].day < end-shortWindow {
			ds.lo30++
		}
		for ds.lo60 < len(ds.days) && ds.days[ds.lo60].day < end-trendWindow {
			ds.lo60++
		}
		in30 := ds.before(len(ds.days)).minus(ds.before(ds.lo30))
		prev := ds.before(ds.lo30).minus(ds.before(ds.lo60))
		var users int32
		if ds.lo30 < len(ds.days) { // some use in the window
			for d := from; d < end; d++ {
				users += e.lastUser[int(d&ringMask)*e.families+s]
			}
		}
		total += in30.count
		y[evCount], y[evUsers], y[evShare] = in30.count, float64(users), in30.count
		if old {
			y[evTrend] = 0
			if in30.count != prev.count {
				y[evTrend] = math.Log((in30.count + 1) / (prev.count + 1))
			}
		}
		y[evDaysSince] = float64(c.tn-e.last[s]) / float64(dayNs)
		if c.seats > 0 {
			y[evPerSeat] = in30.count / c.seats
		}
		k := evFixed
		if b.cfg.EventDuration {
			y[k] = in30.seconds / 60
			k++
		}
		if b.cfg.EventErrors {
			y[k] = in30.errors
		}
	}
	for s := range e.families {
		y := x[numFeatures+s*e.measures:]
		if total > 0 {
			y[evShare] /= total
		} else {
			y[evShare] = math.NaN()
		}
	}
}
