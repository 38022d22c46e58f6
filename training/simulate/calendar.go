package simulate

import "time"

// warmupDays is how long existing customers are simulated, unrecorded,
// before the start, so that their usage trends and support history are
// settled when the first churn decision reads them.
const warmupDays = 56

// calDay holds the calendar facts of one simulated day.
type calDay struct {
	midnight    int64 // Unix seconds at 00:00 UTC
	dom         int   // day of the month, 1–31
	month       time.Month
	weekend     bool
	periodStart bool // the first day of a simulated month (day ≥ 0)
	period      int  // index of the simulated month; -1 during warm-up
	npsMonth    bool // the first month of a calendar quarter, when NPS surveys go out
}

// calendar maps day indexes (0 = the start day, negative = warm-up) to
// calendar facts. Day d's facts depend only on the start date and d, never
// on the number of months, which keeps runs prefix-stable.
type calendar struct {
	start   time.Time
	end     time.Time
	nDays   int
	days    []calDay // days[d+warmupDays]
	periods []time.Time
}

func newCalendar(start time.Time, months int) *calendar {
	c := &calendar{start: start, end: start.AddDate(0, months, 0)}
	c.nDays = int(c.end.Sub(start).Hours()/24 + 0.5)
	for m := range months {
		c.periods = append(c.periods, start.AddDate(0, m, 0))
	}
	c.days = make([]calDay, warmupDays+c.nDays)
	period := -1
	for i := range c.days {
		d := i - warmupDays
		t := start.AddDate(0, 0, d)
		cd := calDay{midnight: t.Unix(), dom: t.Day(), month: t.Month(), period: period}
		cd.weekend = t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
		cd.npsMonth = (t.Month()-1)%3 == 0
		if period+1 < months && !t.Before(c.periods[period+1]) {
			period++
			cd.period, cd.periodStart = period, true
		}
		c.days[i] = cd
	}
	return c
}

// day returns the facts of day d, for -warmupDays ≤ d < nDays.
func (c *calendar) day(d int) *calDay { return &c.days[d+warmupDays] }

// dayOf returns the index of the day holding Unix time sec, which may be
// outside the calendar.
func (c *calendar) dayOf(sec int64) int {
	return int(floorDiv(sec-c.start.Unix(), 86400))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
