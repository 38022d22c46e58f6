package features

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ErrUnordered is returned by Build when usage events or as-of times are
// not in time order.
var ErrUnordered = errors.New("features: records or as-of times out of time order")

const (
	dayNs  = int64(24 * time.Hour)
	hourNs = float64(time.Hour)
	// ringDays is the number of daily usage buckets kept: a power of two
	// covering the longest usage window (60 days for the trend).
	ringDays = 64
	ringMask = ringDays - 1
	// urgent is the highest of Priorities.
	urgent = "urgent"
	// never marks a user or feature not seen yet.
	never = math.MinInt64
)

// dayBucket holds one UTC day of an account's usage. Distinct counts over
// a window are sums of "last seen" counts: a user active in the window is
// one whose latest active day falls in it, so each user moves its mark
// from bucket to bucket as it is seen again, and sums never double count.
type dayBucket struct {
	active   bool  // any usage that day
	users    int32 // distinct users active that day
	lastUser int32 // users whose latest active day is this one
	lastFeat int32 // product features last used this day
	lastKey  int32 // key features last used this day
}

// point is one dated value of a series.
type point struct {
	at int64 // Unix nanoseconds
	v  float64
}

// series is a time-ordered list of dated values with prefix sums, queried
// through window bounds that only move forward as the as-of time does:
// each bound passes each point once, so a sweep costs O(points +
// observations).
type series struct {
	pts []point
	sum []float64 // sum[i] is the total of pts[:i]
	hi  int       // points before the current as-of time
}

func (s *series) reset() {
	s.pts, s.sum, s.hi = s.pts[:0], s.sum[:0], 0
}

func (s *series) add(at time.Time, v float64) {
	s.pts = append(s.pts, point{at.UnixNano(), v})
}

// seal sorts the points by time, keeping the order of equal times, and
// computes the prefix sums.
func (s *series) seal() {
	slices.SortStableFunc(s.pts, func(a, b point) int { return cmp.Compare(a.at, b.at) })
	s.sum = append(s.sum, 0)
	for _, p := range s.pts {
		s.sum = append(s.sum, s.sum[len(s.sum)-1]+p.v)
	}
}

// skip moves bound *i past the points before t.
func (s *series) skip(i *int, t int64) {
	for *i < len(s.pts) && s.pts[*i].at < t {
		*i++
	}
}

// window returns the number and total of the points from bound lo to the
// as-of time.
func (s *series) window(lo int) (n int, total float64) {
	return s.hi - lo, s.sum[s.hi] - s.sum[lo]
}

// mean returns the mean of the points from bound lo to the as-of time, or
// NaN when there are none.
func (s *series) mean(lo int) float64 {
	n, total := s.window(lo)
	if n == 0 {
		return math.NaN()
	}
	return total / float64(n)
}

// last returns the k-th latest point before the as-of time (k = 1 for the
// latest) and whether there is one.
func (s *series) last(k int) (point, bool) {
	if s.hi < k {
		return point{}, false
	}
	return s.pts[s.hi-k], true
}

// Builder turns an account's history into feature vectors as of a list of
// times in one sweep. It keeps its buffers between calls, so building an
// account allocates only when it is larger than every account before it.
// A Builder is not safe for concurrent use; use one per goroutine.
type Builder struct {
	cfg        Config
	trialNs    int64
	plans      map[string]float64
	segments   map[string]float64
	keys       map[string]bool
	numKeys    int
	targets    map[string]int64 // first-response target per priority, in nanoseconds
	adoptionBy float64          // the catalogue size, or NaN when unknown

	// Product features are numbered across accounts on first sight, since
	// every account uses the same few dozen.
	featIndex index
	feats     []featState // by number

	// The current account's usage state.
	users      index
	userLast   []int64 // latest active day per user
	ring       [ringDays]dayBucket
	day        int64 // the latest day in ring; never when empty
	lastUse    int64 // time of the latest usage event; never when none
	featEver   int   // distinct features ever used
	keyEver    int   // distinct key features ever used
	trialStart int64 // first day of the trial, or never
	trialDays  int   // active days from trialStart on

	opened, responded, resolved, ratings, negative, positive, nps, contractions, breaches series
	billing                                                                               []BillingChange

	cur        cursor         // the sweep in progress
	events     events         // the per-event families
	attributes attributeCodes // the configured account attributes
	width      int            // values per vector
}

// NewBuilder returns a Builder for the features of cfg.Catalog.
func NewBuilder(cfg Config) (*Builder, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Builder{
		cfg:        cfg,
		trialNs:    int64(cfg.TrialDays) * dayNs,
		plans:      codes(cfg.Plans),
		segments:   codes(cfg.Segments),
		keys:       make(map[string]bool, len(cfg.KeyFeatures)),
		targets:    make(map[string]int64, len(cfg.ResponseTargets)),
		numKeys:    len(cfg.KeyFeatures),
		adoptionBy: math.NaN(),
		events:     newEvents(cfg),
		attributes: newAttributeCodes(cfg),
	}
	b.width = numFeatures + b.events.families*b.events.measures + len(cfg.Attributes)
	for _, k := range cfg.KeyFeatures {
		b.keys[k] = true
	}
	for p, d := range cfg.ResponseTargets {
		b.targets[p] = int64(d)
	}
	if cfg.CatalogueSize > 0 {
		b.adoptionBy = float64(cfg.CatalogueSize)
	}
	return b, nil
}

// codes maps each dictionary value to its code.
func codes(dict []string) map[string]float64 {
	m := make(map[string]float64, len(dict))
	for i, v := range dict {
		m[v] = float64(i)
	}
	return m
}

// Build appends to dst[:0] one vector per as-of time, in order, and
// returns it, reusing the Values of dst's elements. asOf must be in
// non-decreasing order, and h.Usage in time order (the other tables may
// come in any order). A value as of T reads only what was known strictly
// before T: a ticket counts as opened at OpenedAt, answered at
// FirstResponseAt and resolved (with its CSAT) at ResolvedAt; a billing
// change, survey answer or escalation at its time. The accounts row
// contributes only its segment, created_at, trial start and, when before
// T, converted_at; its plan, seats, MRR, churned_at, trial end and renewal
// date are a snapshot as of the data's end and are never read: commercial
// state comes from the billing changes before T, and the next renewal
// from the current subscription's start and the plan's term.
//
// Build reads h once and does O(1) work per record, plus a constant
// (at most 64 daily buckets) per as-of time. It returns ErrUnordered,
// wrapped, when the order is broken, and then dst holds no vectors.
func (b *Builder) Build(h *History, asOf []time.Time, dst []Vector) ([]Vector, error) {
	dst = dst[:0]
	for i := 1; i < len(asOf); i++ {
		if asOf[i].Before(asOf[i-1]) {
			return dst, fmt.Errorf("account %s: as-of %s after %s: %w", h.AccountID, asOf[i-1].Format(time.RFC3339), asOf[i].Format(time.RFC3339), ErrUnordered)
		}
	}
	b.load(h)
	b.events.reset(asOf)
	c := &b.cur
	*c = cursor{first: never, anchor: never, prevAt: never, renewal: never, renewalAnchor: never}
	c.created = math.MaxInt64
	if a := h.Account; a != nil {
		c.created = a.CreatedAt.UnixNano()
	}
	for _, t := range asOf {
		if err := b.moveTo(h, t); err != nil {
			return dst[:0], err
		}
		dst = grow(dst, b.width)
		v := &dst[len(dst)-1]
		v.AccountID, v.AsOf, v.Version = h.AccountID, t, CatalogVersion
		x := v.Values
		for i := range x[:numFeatures] {
			x[i] = math.NaN()
		}
		b.usageFeatures(x)
		b.supportFeatures(x)
		b.sentimentFeatures(x)
		b.commercialFeatures(x)
		b.eventFeatures(x)
		b.trialFeatures(h.Account, x)
		if a := h.Account; a != nil {
			if code, ok := b.segments[a.Segment]; ok {
				x[fSegment] = code
			}
		}
		copy(x[b.width-len(b.attributes.values):], b.attributes.values)
	}
	return dst, nil
}

// cursor is where a sweep of one account stands: the next record of each
// table, the window bounds of the series, and what the groups' steps
// share about the current as-of time. Bounds only move forward.
type cursor struct {
	t          time.Time
	tn, endDay int64 // the as-of time in Unix nanoseconds, and the first day at or after it
	created    int64 // the account's creation, or MaxInt64 without an accounts row

	usage, billing, billingThen                   int // next usage event, next billing change, billing before T-90d
	opened30, opened90, opened180, responded90    int // window bounds of the series
	resolved90, ratings90, negative90, positive90 int
	contractions, breaches90, nps90               int
	first, anchor                                 int64 // first billing change, and the current subscription's start
	prevAt                                        int64 // the latest usage event read
	// The next renewal changes only when T passes it or the subscription
	// restarts, and computing it takes calendar work.
	renewal, renewalAnchor, renewalTerm int64

	// Values of the current as-of time that more than one group reads.
	recent    usageTotals    // the last 30 days' usage
	userDays  recentUserDays // active user-days of the usage windows
	tickets90 int            // tickets opened in the last 90 days
	seats     float64        // paid seats after the latest billing change; 0 when unknown
}

// start returns the start of the window of the given days before the
// cursor's as-of time. Window starts are midnights, so that a window
// holds whole days of usage buckets: the N-day window as of T starts N
// days before the first midnight at or after T.
func (c *cursor) start(days int64) int64 { return (c.endDay - days) * dayNs }

// moveTo reads h's usage and billing records before t and moves every
// window bound to t.
func (b *Builder) moveTo(h *History, t time.Time) error {
	c := &b.cur
	c.t, c.tn = t, t.UnixNano()
	for ; c.usage < len(h.Usage); c.usage++ {
		e := &h.Usage[c.usage]
		at := e.At.UnixNano()
		if at >= c.tn {
			break
		}
		if at < c.prevAt {
			return fmt.Errorf("account %s: usage event %s at %s: %w", h.AccountID, e.EventID, e.At.Format(time.RFC3339), ErrUnordered)
		}
		c.prevAt = at
		b.use(e, at)
	}
	for ; c.billing < len(b.billing) && b.billing[c.billing].At.UnixNano() < c.tn; c.billing++ {
		bc := &b.billing[c.billing]
		if c.first == never {
			c.first = bc.At.UnixNano()
		}
		if startsSubscription(bc, c.anchor != never) {
			c.anchor = bc.At.UnixNano()
		}
	}
	c.endDay = ceilDiv(c.tn, dayNs)
	for _, s := range b.allSeries() {
		s.skip(&s.hi, c.tn)
	}
	long := c.start(longWindow)
	b.opened.skip(&c.opened30, c.start(shortWindow))
	b.opened.skip(&c.opened90, long)
	b.opened.skip(&c.opened180, c.start(halfYearWindow))
	b.responded.skip(&c.responded90, long)
	b.breaches.skip(&c.breaches90, long)
	b.resolved.skip(&c.resolved90, long)
	b.ratings.skip(&c.ratings90, long)
	b.negative.skip(&c.negative90, long)
	b.positive.skip(&c.positive90, long)
	b.nps.skip(&c.nps90, long)
	b.contractions.skip(&c.contractions, c.start(halfYearWindow))
	for c.billingThen < len(b.billing) && b.billing[c.billingThen].At.UnixNano() < long {
		c.billingThen++
	}
	return nil
}

// usageFeatures sets the usage group and the usage totals the commercial
// group's per-seat rates read.
func (b *Builder) usageFeatures(x []float64) {
	c := &b.cur
	b.advance(c.endDay - 1)
	cur := b.usageWindow(c.endDay, shortWindow)
	ud := b.userDays(c.endDay)
	c.recent, c.userDays = cur, ud
	x[fFeaturesUsed] = float64(cur.features)
	x[fAdoption] = float64(b.featEver) / b.adoptionBy
	x[fActiveDays] = float64(cur.days)
	x[fActiveUsers] = float64(cur.users)
	if cur.users > 0 {
		x[fDAUMAU] = float64(ud.d30) / shortWindow / float64(cur.users)
	}
	if b.lastUse != never {
		x[fDaysSinceUse] = float64(c.tn-b.lastUse) / float64(dayNs)
	}
	// Trends compare windows the account existed for in full; a young
	// account's empty past would read as growth.
	if c.created <= c.start(trendWindow) {
		x[fUsageTrend] = math.Log(float64(ud.d30+1) / float64(ud.d60-ud.d30+1))
		x[fUsageTrend14] = math.Log((float64(ud.d14)/recentWindow + dauPrior) / (float64(ud.d60)/trendWindow + dauPrior))
	}
	if c.created <= c.start(weekWindow+monthWindow) {
		x[fUsageDrop7] = math.Log(float64(ud.d7+1) / (float64(ud.d35-ud.d7)/(monthWindow/weekWindow) + 1))
	}
	if b.numKeys > 0 {
		x[fKeyFeatures] = float64(cur.keys)
	}
}

// supportFeatures sets the support group, escalations included.
func (b *Builder) supportFeatures(x []float64) {
	c := &b.cur
	n30, _ := b.opened.window(c.opened30)
	n90, urgent := b.opened.window(c.opened90)
	n180, _ := b.opened.window(c.opened180)
	c.tickets90 = n90
	x[fTickets30] = float64(n30)
	x[fTickets90] = float64(n90)
	x[fOpenTickets] = float64(b.opened.hi - b.resolved.hi)
	x[fFirstResponse] = b.responded.mean(c.responded90)
	x[fResolution] = b.resolved.mean(c.resolved90)
	x[fCSAT] = b.ratings.mean(c.ratings90)
	if n90 > 0 {
		x[fUrgentShare] = urgent / float64(n90)
	}
	if c.created <= c.start(halfYearWindow) {
		x[fTicketSpike] = math.Log(float64(n30+1) / (float64(n180)*shortWindow/halfYearWindow + 1))
	}
	nb, _ := b.breaches.window(c.breaches90)
	x[fSLABreaches] = float64(nb)
	neg, _ := b.negative.window(c.negative90)
	pos, _ := b.positive.window(c.positive90)
	x[fNegEscalations] = float64(neg)
	x[fPosEscalations] = float64(pos)
	if p, ok := b.negative.last(1); ok {
		x[fDaysSinceNeg] = float64(c.tn-p.at) / float64(dayNs)
	}
}

// sentimentFeatures sets the NPS features.
func (b *Builder) sentimentFeatures(x []float64) {
	if p, ok := b.nps.last(1); ok {
		x[fNPS] = p.v
		x[fDetractor] = 0
		if p.v <= 6 {
			x[fDetractor] = 1
		}
		if q, ok := b.nps.last(2); ok {
			x[fNPSChange] = p.v - q.v
		}
	}
	x[fNPSMean] = b.nps.mean(b.cur.nps90)
}

// commercialFeatures sets the commercial group and the per-seat rates of
// usage and support: the state after the latest billing change before T.
// It runs after usageFeatures and supportFeatures, whose totals it reads.
func (b *Builder) commercialFeatures(x []float64) {
	c := &b.cur
	nc, _ := b.contractions.window(c.contractions)
	x[fContractions] = float64(nc)
	c.seats = 0
	if c.billing == 0 {
		return
	}
	bc := &b.billing[c.billing-1]
	mrr := mrrOf(bc)
	x[fMRR] = mrr
	x[fTenure] = float64(c.tn-c.first) / float64(dayNs)
	if code, ok := b.plans[bc.Plan]; ok {
		x[fPlan] = code
	}
	x[fSeats] = float64(bc.Seats)
	c.seats = float64(bc.Seats)
	if seats := c.seats; seats > 0 {
		x[fSeatUtilisation] = float64(c.recent.users) / seats
		x[fDAUPerSeat14] = float64(c.userDays.d14) / recentWindow / seats
		x[fDAUPerSeat60] = float64(c.userDays.d60) / trendWindow / seats
		x[fTicketsPerSeat] = float64(c.tickets90) / seats
	}
	if c.billingThen > 0 {
		x[fMRRChange] = math.Log((mrr + 1) / (mrrOf(&b.billing[c.billingThen-1]) + 1))
	}
	if bc.Kind != BillingChurn {
		term := int64(termMonths(bc.Plan))
		if c.anchor != c.renewalAnchor || term != c.renewalTerm || c.tn > c.renewal {
			c.renewal = NextRenewal(time.Unix(0, c.anchor).UTC(), int(term), c.t).UnixNano()
			c.renewalAnchor, c.renewalTerm = c.anchor, term
		}
		x[fDaysToRenewal] = float64(c.renewal-c.tn) / float64(dayNs)
	}
}

// trialFeatures sets the trial group, from the trial's start until the
// account converts or its first billing change.
func (b *Builder) trialFeatures(a *Account, x []float64) {
	c := &b.cur
	if a == nil || b.trialStart == never || a.TrialStartedAt.UnixNano() >= c.tn || c.billing > 0 ||
		!a.ConvertedAt.IsZero() && a.ConvertedAt.UnixNano() < c.tn {
		return
	}
	elapsed := c.tn - a.TrialStartedAt.UnixNano()
	x[fTrialDay] = float64(elapsed) / float64(dayNs)
	x[fTrialDaysLeft] = float64(max(0, b.trialNs-elapsed)) / float64(dayNs)
	x[fTrialUsers] = float64(b.users.len())
	if b.numKeys > 0 {
		x[fTrialKeyFeatures] = float64(b.keyEver)
	}
	x[fTrialActiveDays] = float64(b.trialDays)
}

// grow extends dst by one vector of width values, reusing the element's
// Values when the capacity allows.
func grow(dst []Vector, width int) []Vector {
	if len(dst) < cap(dst) {
		dst = dst[:len(dst)+1]
	} else {
		dst = append(dst, Vector{})
	}
	v := &dst[len(dst)-1]
	if cap(v.Values) < width {
		v.Values = make([]float64, width)
	}
	v.Values = v.Values[:width]
	return dst
}

// mrrOf returns the MRR after billing change c: zero after a churn,
// whatever the export says.
func mrrOf(c *BillingChange) float64 {
	if c.Kind == BillingChurn {
		return 0
	}
	return c.MRR
}

// startsSubscription reports whether billing change c starts a
// subscription, from which renewals are counted: a new subscription or a
// reactivation, or any change when none has started one yet.
func startsSubscription(c *BillingChange, anchored bool) bool {
	return c.Kind == BillingNew || c.Kind == BillingReactivation || !anchored
}

// termMonths returns the billing term of a plan: 12 months for plans
// named annual or yearly, one month for the others.
func termMonths(plan string) int {
	p := strings.ToLower(plan)
	if strings.Contains(p, "annual") || strings.Contains(p, "yearly") {
		return 12
	}
	return 1
}

// NextRenewal returns the first renewal of a subscription anchored at
// anchor and billed every months months at or after t: AddMonths(anchor,
// k·months) for the least k ≥ 0. Billing dates clamp to the month's end,
// so an anchor of January 31 renews on February 29 (in a leap year) and
// March 31. It reads nothing but the subscription's start, which is known
// at t, unlike the accounts table's renewal_at.
func NextRenewal(anchor time.Time, months int, t time.Time) time.Time {
	ya, ma, _ := anchor.Date()
	yt, mt, _ := t.Date()
	k := max(0, ((yt-ya)*12+int(mt-ma))/months*months)
	r := AddMonths(anchor, k)
	for r.Before(t) {
		k += months
		r = AddMonths(anchor, k)
	}
	return r
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// allSeries lists the series of the records other than usage and billing
// state.
func (b *Builder) allSeries() [9]*series {
	return [9]*series{&b.opened, &b.responded, &b.resolved, &b.ratings, &b.negative, &b.positive, &b.nps, &b.contractions, &b.breaches}
}

// load resets the account state and collects the records other than usage
// into series, each in the order of the time it became known.
func (b *Builder) load(h *History) {
	b.users.reset()
	b.userLast = b.userLast[:0]
	for i := range b.feats {
		b.feats[i].last = never
	}
	b.ring = [ringDays]dayBucket{}
	b.day, b.lastUse = never, never
	b.featEver, b.keyEver, b.trialDays = 0, 0, 0
	b.attributes.load(h.Account)
	b.trialStart = never
	if a := h.Account; a != nil && !a.TrialStartedAt.IsZero() {
		b.trialStart = floorDiv(a.TrialStartedAt.UnixNano(), dayNs)
	}

	for _, s := range b.allSeries() {
		s.reset()
	}
	for i := range h.Tickets {
		t := &h.Tickets[i]
		b.opened.add(t.OpenedAt, b2f(t.Priority == urgent))
		if !t.FirstResponseAt.IsZero() {
			wait := t.FirstResponseAt.Sub(t.OpenedAt)
			b.responded.add(t.FirstResponseAt, float64(wait)/hourNs)
			// A breach is known once the answer comes, like the response time.
			if target, ok := b.targets[t.Priority]; ok && int64(wait) > target {
				b.breaches.add(t.FirstResponseAt, 1)
			}
		}
		// A ticket's rating is given on resolution; a rating without a
		// resolution has no time it became known, so it never counts.
		if !t.ResolvedAt.IsZero() {
			b.resolved.add(t.ResolvedAt, float64(t.ResolvedAt.Sub(t.OpenedAt))/hourNs)
			if t.CSAT > 0 {
				b.ratings.add(t.ResolvedAt, float64(t.CSAT))
			}
		}
	}
	for i := range h.Escalations {
		e := &h.Escalations[i]
		switch e.Direction {
		case DirectionNegative:
			b.negative.add(e.At, 1)
		case DirectionPositive:
			b.positive.add(e.At, 1)
		}
	}
	for i := range h.Surveys {
		r := &h.Surveys[i]
		switch r.Kind {
		case SurveyNPS:
			b.nps.add(r.At, float64(r.Score))
		case SurveyCSAT:
			b.ratings.add(r.At, float64(r.Score))
		}
	}
	b.billing = append(b.billing[:0], h.Billing...)
	slices.SortStableFunc(b.billing, func(x, y BillingChange) int { return x.At.Compare(y.At) })
	for i := range b.billing {
		if c := &b.billing[i]; c.Kind == BillingContraction {
			b.contractions.add(c.At, 1)
		}
	}
	for _, s := range b.allSeries() {
		s.seal()
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// use adds one usage event at Unix nanoseconds at, no earlier than the
// previous one.
func (b *Builder) use(e *UsageEvent, at int64) {
	d := floorDiv(at, dayNs)
	b.advance(d)
	bucket := &b.ring[d&ringMask]
	if !bucket.active {
		bucket.active = true
		if b.trialStart != never && d >= b.trialStart {
			b.trialDays++
		}
	}
	b.lastUse = at
	u := int32(-1)
	if e.UserID != "" {
		var isNew bool
		u, isNew = b.users.get(e.UserID)
		if isNew {
			b.userLast = append(b.userLast, never)
			if b.events.families > 0 {
				b.events.addUser()
			}
		}
		if p := b.userLast[u]; p != d {
			bucket.users++
			bucket.lastUser++
			if p != never && d-p < ringDays {
				b.ring[p&ringMask].lastUser--
			}
			b.userLast[u] = d
		}
	}
	f, isNew := b.featIndex.get(e.Feature)
	if isNew {
		b.feats = append(b.feats, featState{last: never, family: b.events.family(e.Feature), key: b.keys[e.Feature]})
	}
	ft := &b.feats[f]
	if p := ft.last; p != d {
		key := ft.key
		bucket.lastFeat++
		if key {
			bucket.lastKey++
		}
		switch {
		case p == never:
			b.featEver++
			if key {
				b.keyEver++
			}
		case d-p < ringDays:
			old := &b.ring[p&ringMask]
			old.lastFeat--
			if key {
				old.lastKey--
			}
		}
		ft.last = d
	}
	// Last, so that nothing of this event's is needed after the call.
	if b.events.families > 0 {
		b.events.use(e, ft.family, u, at)
	}
}

// featState is what the builder keeps of a product feature.
type featState struct {
	last   int64 // the current account's latest day of use; never when none
	family int32 // its per-event family, when there is a vocabulary
	key    bool  // whether it is a key feature
}

// advance moves the ring forward to day d, emptying the buckets of the
// days it passes, and the per-event families past the window starts up to
// d.
func (b *Builder) advance(d int64) {
	switch {
	case b.day == never || d-b.day >= ringDays:
		b.ring = [ringDays]dayBucket{}
	case d > b.day:
		for x := b.day + 1; x <= d; x++ {
			b.ring[x&ringMask] = dayBucket{}
		}
	default:
		return
	}
	b.day = d
	if b.events.families > 0 {
		b.events.pass(d)
	}
}

// usageTotals sums the daily buckets of a window.
type usageTotals struct {
	days, users, features, keys int
}

// usageWindow sums the days of [end-days, end): every bucket counted is
// within ringDays of the ring's latest day, which advance set to end-1 or
// later.
func (b *Builder) usageWindow(end, days int64) usageTotals {
	var t usageTotals
	for d := max(end-days, b.day-ringMask); d < end; d++ {
		bk := &b.ring[d&ringMask]
		if bk.active {
			t.days++
		}
		t.users += int(bk.lastUser)
		t.features += int(bk.lastFeat)
		t.keys += int(bk.lastKey)
	}
	return t
}

// recentUserDays holds the active user-days of the 7, 14, 30, 35 and 60
// days before a day.
type recentUserDays struct {
	d7, d14, d30, d35, d60 int
}

// userDays sums the active user-days of the windows ending before day
// end, nested so that each bucket is read once. advance must have set the
// ring's latest day to end-1, so that its 64 buckets cover the 60 days.
func (b *Builder) userDays(end int64) recentUserDays {
	var r recentUserDays
	r.d7 = b.sumUsers(end-weekWindow, end)
	r.d14 = r.d7 + b.sumUsers(end-recentWindow, end-weekWindow)
	r.d30 = r.d14 + b.sumUsers(end-shortWindow, end-recentWindow)
	r.d35 = r.d30 + b.sumUsers(end-weekWindow-monthWindow, end-shortWindow)
	r.d60 = r.d35 + b.sumUsers(end-trendWindow, end-weekWindow-monthWindow)
	return r
}

// sumUsers returns the active user-days of days [from, to).
func (b *Builder) sumUsers(from, to int64) int {
	n := 0
	for d := from; d < to; d++ {
		n += int(b.ring[d&ringMask].users)
	}
	return n
}
