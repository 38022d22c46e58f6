package simulate

import (
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
)

// sink receives the records of simulated accounts. Each account's records
// arrive in time order per table; its accounts row comes last, once its
// state as of the end is known.
type sink interface {
	account(*features.Account)
	usage(*features.UsageEvent)
	ticket(*features.Ticket)
	escalation(*features.Escalation)
	survey(*features.SurveyResponse)
	billing(*features.BillingChange)
	// acquired counts a new customer of channel ch (an index of channels)
	// at at, within the history, for the spend.
	acquired(ch int, at time.Time)
	// churnTruth and conversionTruth receive the truth and the truth as
	// of the default observation (see TruthChurnStartFile).
	churnTruth(accountID string, period time.Time, p, atStart float64)
	conversionTruth(accountID string, p, atWeek float64)
}

// Latent engagement dynamics. z is an Ornstein–Uhlenbeck walk around the
// account's own mean mu, so accounts differ persistently and drift.
const (
	reversion  = 0.04 // per day
	volatility = 0.10 // per √day
	// activeBase is the logit of an average user being active on a
	// weekday at z = 0.
	activeBase     = -2.7
	weekendFactor  = 0.12
	trialActivity  = 0.12  // odds factor: evaluators log in far more than settled users
	trialAdoptRate = 0.30  // chance per active user-day that a trial adopts a feature
	adoptRate      = 0.006 // the same for customers
	abandonRate    = 0.003 // chance per day that a customer drops a feature
)

// user is one seat holder of an account.
type user struct {
	id string
	// odds is exp(-(activeBase + propensity)): the daily activity
	// probability is 1 / (1 + odds·exp(-1.5z)).
	odds       float64
	propensity float64
	engage     float64 // the user is engaged while engage < the account's engagedCut
	hour       int     // usual start of the working day, in seconds
}

// lifecycle is where an account stands commercially.
type lifecycle int

const (
	trialing lifecycle = iota
	paying
	churned
	lapsed // a trial that ended without converting
)

// acct is the state of one account during its simulation. Workers reuse
// one acct across accounts.
type acct struct {
	s   *sim
	idx uint64
	id  string
	seg *segment
	// channel indexes channels: how the account was acquired.
	channel int
	rec     features.Account

	state    lifecycle
	tier     int
	annual   bool
	seats    int
	users    []user
	startDay int // first simulated day

	// Billing anchor: decisions run at 00:00 on anchorDom of every month,
	// renewals of annual contracts in anchorMonth.
	anchorDom   int
	anchorMonth time.Month
	subDay      int   // day the current subscription started
	notBefore   int64 // Unix time before which nothing may happen: creation or reactivation
	reactDay    int   // day a churned account comes back; -1 if never

	// Latent state and shocks.
	mu, z         float64
	adopted       uint32
	championGone  bool
	incidentDays  int // days left of a bad release hitting the account
	npsDom        int
	utilOdds      float64 // odds against a seat being engaged at z = 0
	ticketsPerDay float64 // expected tickets per day at z = 0

	// Observed signals, as exponentially weighted daily rates.
	actFast, actSlow float64 // active users per day, 14- and 60-day
	ticketRate       float64 // tickets per day, 30-day
	slowRate         float64 // slow first responses per day, 60-day
	negRate, posRate float64 // escalations per day, 90-day
	npsLatest        float64 // mean score of the latest NPS wave; -1 if none

	// Trial state.
	trialEndDay, decisionDay int
	trialActiveDays          int
	trialUsers               uint64 // bit k: user k was active during the trial
	keyUsed                  uint32
	trialTickets             int

	// Truth bookkeeping: the chance to survive the current period's churn
	// decisions, if the account was paying when the period began.
	atRisk  bool
	period  int
	survive float64
	// startSurvive is the chance to survive the period's decisions as the
	// signals stood when it began, and weekP the trial's conversion
	// probability as its signals stood at the start of its eighth day
	// (trial day 7): the truth as of the times a model observes by default.
	startSurvive float64
	weekP        float64

	seq [4]int // per-table record counters: tickets, escalations, surveys, billing

	// Scratch records, reused so that emitting does not allocate.
	ev  features.UsageEvent
	tk  features.Ticket
	esc features.Escalation
	sr  features.SurveyResponse
	bc  features.BillingChange
	buf []byte
}

const (
	seqTicket = iota
	seqEscalation
	seqSurvey
	seqBilling
)

var seqPrefix = [4]string{"-t", "-x", "-r", "-b"}

// nextID returns the account's next record key of a table: the account id,
// a table letter and a sequence number in time order.
func (a *acct) nextID(table int) string {
	a.seq[table]++
	a.buf = append(append(a.buf[:0], a.id...), seqPrefix[table]...)
	a.buf = strconv.AppendInt(a.buf, int64(a.seq[table]), 10)
	return string(a.buf)
}

// accountID formats account index i; the width is fixed so that ids sort
// in index order for up to ten million accounts.
func accountID(buf []byte, i uint64) []byte {
	buf = append(buf[:0], 'A')
	n := strconv.AppendUint(nil, i, 10)
	for range 7 - len(n) {
		buf = append(buf, '0')
	}
	return append(buf, n...)
}

// clock returns a time on the day of cd, from seconds after midnight plus
// a uniform offset below span. On the day the account is created (or comes
// back), times that would fall before are drawn again over the rest of
// the day.
func (a *acct) clock(cd *calDay, from, span int, r *rng) int64 {
	t := cd.midnight + int64(from+r.intn(span))
	if t < a.notBefore {
		t = a.notBefore + int64(r.intn(int(max(1, cd.midnight+86400-a.notBefore))))
	}
	return t
}

// unix converts Unix seconds to a UTC time.
func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// simulate runs account idx from its creation to the end and sends its
// records to out. Accounts created after the end produce nothing.
func (a *acct) simulate(s *sim, idx uint64, out sink) {
	if !a.init(s, idx) {
		return
	}
	cal := s.cal
	if a.state == paying && a.startDay < 0 {
		a.emitBilling(features.BillingNew, a.subscribedAt(), out)
	}
	for d := a.startDay; d < cal.nDays; d++ {
		cd := cal.day(d)
		emit := d >= 0
		if emit && cd.periodStart {
			a.closePeriod(out)
			a.atRisk, a.period, a.survive = a.state == paying, cd.period, 1
			if a.atRisk {
				a.startSurvive = a.startSurvival(d)
			}
		}
		if a.state == lapsed {
			break
		}
		r := newRNG(s.seed, idx, int64(d), streamDay)
		if a.state == churned {
			if d != a.reactDay {
				continue
			}
			a.reactivate(d, cd, &r, out)
		}
		if a.state == trialing {
			if d == a.startDay+EarlyTrialDay {
				a.weekP = noisyProbability(a.conversionLogit(), conversionNoise)
			}
			if d == a.decisionDay {
				a.decideConversion(d, &r, emit, out)
			}
			if a.state == trialing && d >= a.trialEndDay {
				a.state = lapsed
				break
			}
		}
		if a.state == paying && emit && d != a.subDay && cd.dom == a.anchorDom {
			a.billingDay(d, cd, &r, out)
			if a.state == churned {
				continue
			}
		}
		a.live(d, cd, &r, emit, out)
	}
	a.closePeriod(out)
	a.snapshot(out)
}

// init draws the account's attributes. It reports false when the account
// is created after the end.
func (a *acct) init(s *sim, idx uint64) bool {
	r := newRNG(s.seed, idx, accountDay, streamAccount)
	existing := r.bernoulli(existingShare)
	var arrival int
	if !existing {
		arrival = r.intn(s.trialWindow)
		if arrival >= s.cal.nDays {
			return false
		}
	}
	a.s, a.idx = s, idx
	a.buf = accountID(a.buf, idx)
	a.id = string(a.buf)
	a.seq = [4]int{}
	a.users = a.users[:0]
	a.championGone, a.incidentDays = false, 0
	a.actFast, a.actSlow, a.ticketRate, a.slowRate, a.negRate, a.posRate = 0, 0, 0, 0, 0, 0
	a.npsLatest = -1
	a.trialActiveDays, a.trialUsers, a.keyUsed, a.trialTickets = 0, 0, 0, 0
	a.atRisk, a.survive, a.reactDay = false, 1, -1
	a.subDay = math.MinInt32
	a.notBefore = math.MinInt64

	weights := segmentWeights[1]
	if existing {
		weights = segmentWeights[0]
	}
	seg := r.pick(weights)
	a.seg = &segments[seg]
	a.channel = pickChannel(s.seed, idx, seg)
	a.rec = features.Account{
		AccountID:  a.id,
		Name:       namePrefixes[r.intn(len(namePrefixes))] + nameSuffixes[r.intn(len(nameSuffixes))] + nameForms[r.intn(len(nameForms))],
		Segment:    a.seg.name,
		Owner:      owners[r.between(a.seg.ownerLo, a.seg.ownerHi)-1],
		Attributes: channels[a.channel].attrs,
	}
	a.mu = 0.7 * r.normal()
	a.utilOdds = math.Exp(-(-0.3 + 0.4*r.normal()))
	a.npsDom = r.between(1, 20)
	secOfDay := int64(r.between(8*3600, 20*3600))

	if existing {
		tenure := min(30+int(-600*math.Log(1-r.float())), 3650) // exponential, mean 630 days
		created := s.cal.start.Unix() - int64(tenure)*86400 + secOfDay
		a.rec.CreatedAt = unix(created)
		subscribed := created
		if r.bernoulli(0.4) { // converted from a self-serve trial
			a.setTrial(created)
			subscribed = created + int64(r.between(3, 14))*86400
			a.rec.ConvertedAt = unix(subscribed)
		}
		a.subscribe(s.cal.dayOf(subscribed), subscribed, &r)
		a.seats = seatsOf(a.seg, &r)
		a.startDay = max(s.cal.dayOf(created), -warmupDays)
		a.z = a.mu + 0.35*r.normal()
		a.adopted = coreMask | randomFeatures(&r, models.Logistic(0.2+a.mu)*0.6)
	} else {
		created := s.cal.start.Unix() + int64(arrival)*86400 + secOfDay
		a.rec.CreatedAt = unix(created)
		a.setTrial(created)
		a.state = trialing
		a.tier = -1
		a.seats = 1 + r.poisson(1.2+2*float64(seg))
		a.startDay = arrival
		a.trialEndDay = arrival + trialDays
		a.decisionDay = arrival + trialDays
		if r.bernoulli(0.5) {
			a.decisionDay = arrival + r.between(7, trialDays-1)
		}
		a.mu -= 0.3
		a.z = a.mu + 0.5*r.normal()
		a.adopted = coreMask
	}
	a.notBefore = a.rec.CreatedAt.Unix()
	a.ticketsPerDay = a.seg.ticketRate * math.Pow(float64(a.seats), 0.6)
	a.ensureUsers()
	return true
}

// existingShare is the share of accounts that are customers at the start;
// the rest arrive as self-serve trials.
const existingShare = 0.55

// trialDays is the length of a self-serve trial.
const trialDays = 14

// segmentWeights holds the segment mix of existing customers and of trials.
var segmentWeights = func() [2][]float64 {
	var w [2][]float64
	for _, s := range segments {
		w[0] = append(w[0], s.existingWeight)
		w[1] = append(w[1], s.trialWeight)
	}
	return w
}()

// owners holds the rep names rep-01 … rep-20.
var owners = func() []string {
	o := make([]string, 20)
	for i := range o {
		o[i] = "rep-" + strconv.Itoa((i+1)/10) + strconv.Itoa((i+1)%10)
	}
	return o
}()

func seatsOf(seg *segment, r *rng) int {
	return max(1, int(math.Round(r.logUniform(seg.seatsLo, seg.seatsHi))))
}

// randomFeatures returns a mask of the non-core features, each adopted
// with probability p.
func randomFeatures(r *rng, p float64) uint32 {
	var m uint32
	for i := range Features {
		if !Features[i].core && r.bernoulli(p) {
			m |= 1 << i
		}
	}
	return m
}

func (a *acct) setTrial(created int64) {
	a.rec.TrialStartedAt = unix(created)
	a.rec.TrialEndsAt = unix(created + trialDays*86400)
}

// subscribe makes the account a paying customer from Unix time at (day d):
// it draws the plan and cycle and anchors the billing calendar.
func (a *acct) subscribe(d int, at int64, r *rng) {
	a.state = paying
	a.tier = a.seg.plans[r.pick(a.seg.planWeights)]
	a.annual = r.bernoulli(a.seg.annual)
	a.subDay = d
	t := unix(at)
	a.anchorDom, a.anchorMonth = min(t.Day(), 28), t.Month()
}

// subscribedAt returns when the current subscription of an existing
// customer began.
func (a *acct) subscribedAt() int64 {
	if !a.rec.ConvertedAt.IsZero() {
		return a.rec.ConvertedAt.Unix()
	}
	return a.rec.CreatedAt.Unix()
}

// ensureUsers grows the user list to the account's seats. User k's
// attributes come from its own stream, so adding seats later gives the
// same users whatever happened before.
func (a *acct) ensureUsers() {
	for k := len(a.users); k < a.seats; k++ {
		r := newRNG(a.s.seed, a.idx, int64(k), streamUser)
		p := 0.9 * r.normal()
		a.buf = strconv.AppendInt(append(append(a.buf[:0], a.id...), "-u"...), int64(k+1), 10)
		a.users = append(a.users, user{
			id:         string(a.buf),
			odds:       math.Exp(-(activeBase + p)),
			propensity: p,
			engage:     r.float(),
			hour:       r.between(7, 14) * 3600,
		})
	}
}

func (a *acct) mrr() float64 {
	if a.state != paying {
		return 0
	}
	m := float64(a.seats) * tiers[a.tier].price
	if a.annual {
		m *= annualDiscount
	}
	return math.Round(m*100) / 100
}

func (a *acct) plan() string {
	if a.tier < 0 {
		return trialPlan
	}
	return planName(a.tier, a.annual)
}

// churnLogit returns the part of the churn logit that the product can
// observe: usage decline and low seat utilisation, ticket storms, slow
// first responses, detractor NPS and negative escalations (positive
// escalations and promoters protect). The latent state acts only through
// these signals.
func (a *acct) churnLogit() float64 {
	util := clamp(math.Log(a.relativeUse()+0.05), -2.5, 1)
	storm := math.Max(0, math.Log((a.ticketRate+0.5/30)/(a.ticketsPerDay+0.5/30)))
	x := 1.4*a.decline() - 0.5*util + 0.5*storm + 0.45*math.Min(a.slowRate*60, 3) +
		0.6*math.Min(a.negRate*90, 2) - 0.4*math.Min(a.posRate*90, 1)
	switch {
	case a.npsLatest < 0:
	case a.npsLatest <= 6:
		x += 0.9
	case a.npsLatest >= 9:
		x -= 0.4
	}
	return x
}

// typicalUse is about the median share of a paying account's seats
// active on a day; utilisation signals are relative to it.
const typicalUse = 0.04

// relativeUse returns the share of seats active on a recent day, relative
// to typicalUse.
func (a *acct) relativeUse() float64 { return a.actFast / float64(a.seats) / typicalUse }

// decline returns how far recent activity fell below the longer-run
// level, as a log ratio; 0 when it did not fall.
func (a *acct) decline() float64 {
	return math.Max(0, math.Log((a.actSlow+0.05)/(a.actFast+0.05)))
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// Standard deviations of the unobserved part of churn and conversion
// decisions: what no model can learn from the records. The decisions draw
// from the probability with this noise integrated out (see
// noisyProbability), which is also what the truth files hold: the best
// probability anything that sees the account's signals, but not the noise,
// can give.
const (
	churnNoise      = 0.7
	conversionNoise = 0.5
)

// billingDay runs the billing decisions of an anchor day: churn at a
// monthly billing date or an annual renewal, then expansion or
// contraction.
func (a *acct) billingDay(d int, cd *calDay, r *rng, out sink) {
	renewal := !a.annual || (cd.month == a.anchorMonth && d-a.subDay > 300)
	at := cd.midnight
	signals := a.churnLogit()
	if renewal {
		base := a.seg.churnBase
		if a.annual {
			base = a.seg.renewBase
		}
		p := noisyProbability(base+signals, churnNoise)
		a.survive *= 1 - p
		if r.bernoulli(p) {
			a.churn(d, at, r, out)
			return
		}
	}
	use := math.Log(a.relativeUse() + 0.05)
	pos := math.Min(a.posRate*90, 1)
	switch {
	case r.bernoulli(models.Logistic(-4.5 + math.Max(0, use) + 1.5*pos + 0.5*b2f(a.npsLatest >= 9))):
		a.seats += max(1, int(math.Round(float64(a.seats)*r.uniform(0.1, 0.4))))
		if a.tier < enterprisePlan && r.bernoulli(0.2) {
			a.tier++
		}
		a.ensureUsers()
		a.emitBilling(features.BillingExpansion, at, out)
	case (renewal || !a.annual) && a.seats > 1 &&
		r.bernoulli(models.Logistic(-5.2+a.decline()-0.6*math.Min(0, use))):
		a.seats = max(1, a.seats-max(1, int(math.Round(float64(a.seats)*r.uniform(0.1, 0.3)))))
		a.emitBilling(features.BillingContraction, at, out)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// churn ends the subscription at Unix time at. A few churned accounts come
// back later; when is drawn now so the future does not depend on the end.
func (a *acct) churn(d int, at int64, r *rng, out sink) {
	a.state = churned
	seats := a.seats
	a.seats = 0
	a.emitBilling(features.BillingChurn, at, out)
	a.seats = seats
	a.rec.ChurnedAt = unix(at)
	if r.bernoulli(0.08) {
		a.reactDay = d + r.between(14, 120)
	}
}

// reactivate brings a churned account back on day d with fewer seats and
// renewed engagement.
func (a *acct) reactivate(d int, cd *calDay, r *rng, out sink) {
	a.state = paying
	a.seats = max(1, int(math.Round(float64(a.seats)*r.uniform(0.5, 1))))
	at := a.clock(cd, 8*3600, 10*3600, r)
	a.notBefore = at
	a.subDay = d
	a.anchorDom, a.anchorMonth = min(cd.dom, 28), cd.month
	a.z = a.mu + 0.3
	a.actFast = a.actSlow // the old usage trend says nothing about the new subscription
	a.rec.ChurnedAt = time.Time{}
	a.emitBilling(features.BillingReactivation, at, out)
}

// conversionLogit returns the logit of converting from what the trial
// showed so far: key features activated, active days and active users,
// and support trouble.
func (a *acct) conversionLogit() float64 {
	return -2.6 + 0.9*float64(popcount(a.keyUsed&keyMask)) + 0.12*float64(a.trialActiveDays) +
		0.5*math.Log1p(float64(bits.OnesCount64(a.trialUsers))) - 0.4*float64(a.trialTickets)
}

// decideConversion decides on day d whether the trial converts, from what
// the trial showed so far: key features activated, active days and active
// users, and support trouble.
func (a *acct) decideConversion(d int, r *rng, emit bool, out sink) {
	p := noisyProbability(a.conversionLogit(), conversionNoise)
	if emit {
		out.conversionTruth(a.id, p, a.weekP)
	}
	if !r.bernoulli(p) {
		return
	}
	at := a.rec.CreatedAt.Unix() + int64(d-a.startDay)*86400
	a.subscribe(d, at, r)
	a.seats = max(a.seats, seatsOf(a.seg, r))
	a.ticketsPerDay = a.seg.ticketRate * math.Pow(float64(a.seats), 0.6)
	a.ensureUsers()
	a.rec.ConvertedAt = unix(at)
	a.emitBilling(features.BillingNew, at, out)
}

// live simulates one day of an active account: shocks, the latent walk,
// usage, tickets, escalations and surveys.
func (a *acct) live(d int, cd *calDay, r *rng, emit bool, out sink) {
	customer := a.state == paying
	// Shocks: a bad release, a champion leaving, a new executive sponsor.
	if r.bernoulli(1.0 / 350) {
		a.incidentDays = r.between(7, 25)
		a.z -= 0.3
		if r.bernoulli(0.3) {
			a.escalate(cd, r, features.DirectionNegative, r.between(1, 3), notesIncident, emit, out)
		}
	}
	if customer && !a.championGone && a.seats > 1 && r.bernoulli(1.0/700) {
		a.championGone = true
		a.z -= 1.0
		if r.bernoulli(0.5) {
			a.escalate(cd, r, features.DirectionNegative, r.between(2, 3), notesChampionLeft, emit, out)
		}
	}
	if customer && r.bernoulli(1.0/800) {
		a.z += 0.7
		if r.bernoulli(0.7) {
			a.escalate(cd, r, features.DirectionPositive, r.between(1, 2), notesPositive, emit, out)
		}
	}
	drift := 0.0
	if a.incidentDays > 0 {
		a.incidentDays--
		drift = -0.02
	}
	a.z += reversion*(a.mu-a.z) + volatility*r.normal() + drift
	// Every engagement effect below scales with e^(kz) for k in ±½, ±1,
	// ±1.5, so one exp and one sqrt per day serve them all.
	e := engagement{ez: math.Exp(a.z)}
	e.sq = math.Sqrt(e.ez)

	active := a.usage(cd, r, &e, emit, out)
	a.actFast += (float64(active) - a.actFast) / 14
	a.actSlow += (float64(active) - a.actSlow) / 60

	lambda := a.ticketsPerDay / e.sq
	if a.state == trialing {
		lambda *= 2 // trials ask more how-to questions
	}
	if a.incidentDays > 0 {
		lambda *= 4
	}
	n := r.poisson(lambda)
	for range n {
		a.openTicket(d, cd, r, emit, out)
	}
	a.ticketRate += (float64(n) - a.ticketRate) / 30
	a.slowRate -= a.slowRate / 60
	a.negRate -= a.negRate / 90
	a.posRate -= a.posRate / 90

	if !customer {
		return
	}
	// Background escalations: CSMs flag trouble on disengaged accounts and
	// opportunities on engaged ones.
	if r.bernoulli(0.0008 / e.ez) {
		a.escalate(cd, r, features.DirectionNegative, r.between(0, 2), notesRisk, emit, out)
	}
	if r.bernoulli(0.0006 * e.ez) {
		a.escalate(cd, r, features.DirectionPositive, r.between(0, 2), notesPositive, emit, out)
	}
	// Feature adoption drifts with engagement.
	if r.bernoulli(abandonRate / e.ez) {
		if m := a.adopted &^ coreMask; m != 0 {
			a.adopted &^= 1 << nthBit(m, r.intn(popcount(m)))
		}
	}
	if cd.npsMonth && cd.dom == a.npsDom {
		a.npsWave(cd, r, &e, emit, out)
	}
}

// usage simulates the users of the account on day d and returns how many
// were active. It writes one row per (user, feature) used that day.
func (a *acct) usage(cd *calDay, r *rng, e *engagement, emit bool, out sink) int {
	engagedCut := a.engagedCut(e)
	dayOdds := 1 / (e.ez * e.sq)
	if a.state == trialing {
		dayOdds *= trialActivity
	}
	breadth := clamp(1+0.25*a.z, 0.5, 1.5)
	errRate := 0.015
	if a.incidentDays > 0 {
		errRate *= 7
	}
	trial := a.state == trialing
	adoptP := adoptRate * e.sq
	if trial {
		adoptP = trialAdoptRate * e.sq
	}
	ev := &a.ev
	ev.AccountID = a.id
	active := 0
	for k := range a.seats {
		u := &a.users[k]
		if (k == 0 && a.championGone) || u.engage >= engagedCut {
			continue
		}
		p := 1 / (1 + u.odds*dayOdds)
		if cd.weekend {
			p *= weekendFactor
		}
		if !r.bernoulli(p) {
			continue
		}
		active++
		if trial {
			a.trialUsers |= 1 << (k & 63)
		}
		if r.bernoulli(adoptP) {
			a.adoptOne(r, trial)
		}
		var used uint32
		for m := a.adopted; m != 0; m &= m - 1 {
			f := bits.TrailingZeros32(m)
			if r.bernoulli(Features[f].use * breadth) {
				used |= 1 << f
			}
		}
		if used == 0 {
			used = 1 // an active user at least opens the dashboard
		}
		if trial {
			a.keyUsed |= used
		}
		if !trial && r.bernoulli(0.002) {
			a.survey(a.clock(cd, u.hour, 8*3600, r), u, features.SurveyCSAT,
				int(clamp(math.Round(4+0.9*a.z+0.8*r.normal()), 1, 5)), emit, out)
		}
		if !emit {
			continue
		}
		ev.UserID = u.id
		for m := used; m != 0; m &= m - 1 {
			f := bits.TrailingZeros32(m)
			count := 1
			for count < 50 && r.bernoulli(0.55) {
				count++
			}
			ev.Feature = Features[f].Name
			ev.At = unix(a.clock(cd, u.hour, 6*3600, r))
			ev.Count = count
			ev.DurationS = math.Round(float64(count) * useSeconds[r.uint64()>>(64-useSecondsBits)])
			ev.Errors = r.binomial(count, errRate)
			out.usage(ev)
		}
	}
	if trial && active > 0 {
		a.trialActiveDays++
	}
	return active
}

// adoptOne adopts a feature not yet adopted. Onboarding steers trials to
// the key features, half of the time.
func (a *acct) adoptOne(r *rng, trial bool) {
	m := allMask &^ a.adopted
	if trial && m&keyMask != 0 && r.bernoulli(0.5) {
		m &= keyMask
	}
	if m != 0 {
		a.adopted |= 1 << nthBit(m, r.intn(popcount(m)))
	}
}

// engagement holds e^z and e^(z/2) for the day.
type engagement struct{ ez, sq float64 }

// engagedCut returns the share of seats engaged at today's engagement.
func (a *acct) engagedCut(e *engagement) float64 {
	return 1 / (1 + a.utilOdds/(e.ez*e.sq))
}

// useSeconds holds quantiles of the log-normal time one use of a feature
// takes (median 36 s), so a row draws its duration with a table lookup
// rather than an exp and a normal deviate.
const useSecondsBits = 8

var useSeconds = func() [1 << useSecondsBits]float64 {
	var q [1 << useSecondsBits]float64
	for i := range q {
		z := math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/float64(len(q))-1)
		q[i] = math.Exp(3.6 + 0.7*z)
	}
	return q
}()

// nthBit returns the index of the n-th set bit of m (n from 0).
func nthBit(m uint32, n int) int {
	for range n {
		m &= m - 1
	}
	return bits.TrailingZeros32(m)
}

// openTicket opens a ticket on day d. Its first response and resolution
// are drawn now; those that fall after the end are left blank, as they are
// not yet known then.
func (a *acct) openTicket(d int, cd *calDay, r *rng, emit bool, out sink) {
	pw, cw := priorityWeights, ticketCategoryWeights
	if a.incidentDays > 0 {
		pw, cw = incidentPriorityWeights, incidentCategoryWeight
	}
	pr, cat := r.pick(pw), r.pick(cw)
	opened := a.clock(cd, 7*3600, 13*3600, r)
	sla := responseSLAHours[pr] * a.seg.responseFactor
	respH := sla * a.s.supportLoad(d) * math.Exp(-0.3+0.6*r.normal())
	resH := resolveHours[pr] * math.Exp(0.8*r.normal())
	if a.incidentDays > 0 {
		resH *= 1.8
	}
	first := opened + int64(respH*3600)
	resolved := first + int64(resH*3600)
	slow := respH > 2*sla
	csat := 0
	if r.bernoulli(0.35) {
		csat = int(clamp(math.Round(4.2-b2f(slow)-0.4*math.Log(resH/resolveHours[pr])+0.5*a.z+0.8*r.normal()), 1, 5))
	}
	escalated := r.bernoulli(models.Logistic(-3.2 + 1.5*b2f(pr == 3) + b2f(slow) - 0.5*a.z))
	// The customer feels slow or bad support.
	if slow {
		a.z -= 0.12
		a.slowRate += 1.0 / 60
	}
	if csat > 0 && csat <= 2 {
		a.z -= 0.1
	}
	if a.state == trialing {
		a.trialTickets++
	}
	if emit {
		end := a.s.cal.end.Unix()
		t := &a.tk
		*t = features.Ticket{TicketID: a.nextID(seqTicket), AccountID: a.id, OpenedAt: unix(opened),
			Priority: features.Priorities[pr], Category: ticketCategories[cat], CSAT: csat, Escalated: escalated}
		if first < end {
			t.FirstResponseAt = unix(first)
		}
		if resolved < end {
			t.ResolvedAt = unix(resolved)
			// Harder tickets take more replies; from their own stream, so
			// that no other draw changes.
			rr := newRNG(a.s.seed, a.idx, int64(a.seq[seqTicket]), streamReplies)
			t.AgentReplies = 1 + rr.poisson(0.7*resH/resolveHours[pr])
		} else {
			t.CSAT = 0 // rated on resolution
		}
		out.ticket(t)
	}
	if escalated && r.bernoulli(0.5) {
		a.escalate(cd, r, features.DirectionNegative, min(pr, 3), notesTicket, emit, out)
	}
}

// escalate records an escalation on the day of cd with severity index sev.
func (a *acct) escalate(cd *calDay, r *rng, dir string, sev int, notes []string, emit bool, out sink) {
	note := notes[r.intn(len(notes))]
	at := a.clock(cd, 8*3600, 11*3600, r)
	if dir == features.DirectionNegative {
		a.negRate += 1.0 / 90
	} else {
		a.posRate += 1.0 / 90
	}
	if !emit {
		return
	}
	a.esc = features.Escalation{EscalationID: a.nextID(seqEscalation), AccountID: a.id, At: unix(at),
		Direction: dir, Severity: features.Severities[sev], Note: note}
	out.escalation(&a.esc)
}

// npsWave sends the quarterly NPS survey; a share of engaged users answer.
func (a *acct) npsWave(cd *calDay, r *rng, e *engagement, emit bool, out sink) {
	cut := a.engagedCut(e)
	sum, n := 0, 0
	for k := range a.seats {
		u := &a.users[k]
		if (k == 0 && a.championGone) || u.engage >= cut || !r.bernoulli(0.15) {
			continue
		}
		score := int(clamp(math.Round(7.3+1.8*a.z+0.5*u.propensity+1.4*r.normal()), 0, 10))
		a.survey(a.clock(cd, u.hour, 8*3600, r), u, features.SurveyNPS, score, emit, out)
		sum += score
		n++
	}
	if n > 0 {
		a.npsLatest = float64(sum) / float64(n)
	}
}

func (a *acct) survey(at int64, u *user, kind string, score int, emit bool, out sink) {
	if !emit {
		return
	}
	a.sr = features.SurveyResponse{ResponseID: a.nextID(seqSurvey), AccountID: a.id, UserID: u.id, At: unix(at), Kind: kind, Score: score}
	out.survey(&a.sr)
}

// emitBilling records a billing change of the given kind at Unix time at,
// with the account's plan, seats and MRR after it.
func (a *acct) emitBilling(kind string, at int64, out sink) {
	a.bc = features.BillingChange{ChangeID: a.nextID(seqBilling), AccountID: a.id, At: unix(at),
		MRR: a.mrr(), Seats: a.seats, Plan: a.plan(), Kind: kind}
	out.billing(&a.bc)
	if kind == features.BillingNew && at >= a.s.cal.start.Unix() {
		out.acquired(a.channel, a.bc.At)
	}
}

// closePeriod writes the truth row of the period that just ended, if the
// account was paying when it began.
func (a *acct) closePeriod(out sink) {
	if !a.atRisk {
		return
	}
	a.atRisk = false
	out.churnTruth(a.id, a.s.cal.periods[a.period], 1-a.survive, 1-a.startSurvive)
}

// startSurvival returns the chance to survive the churn decisions of the
// period that begins on day d, were they taken on the signals of day d.
func (a *acct) startSurvival(d int) float64 {
	cal := a.s.cal
	period := cal.day(d).period
	survive := 1.0
	for x := d; x < cal.nDays && cal.day(x).period == period; x++ {
		cd := cal.day(x)
		if cd.dom != a.anchorDom || x == a.subDay || a.annual && (cd.month != a.anchorMonth || x-a.subDay <= 300) {
			continue
		}
		base := a.seg.churnBase
		if a.annual {
			base = a.seg.renewBase
		}
		survive *= 1 - noisyProbability(base+a.churnLogit(), churnNoise)
	}
	return survive
}

// snapshot writes the account row as of the end.
func (a *acct) snapshot(out sink) {
	a.rec.Plan = a.plan()
	a.rec.Seats = a.seats
	a.rec.MRR = a.mrr()
	a.rec.RenewalAt = time.Time{}
	switch a.state {
	case churned:
		a.rec.Seats = 0
	case paying:
		a.rec.RenewalAt = a.nextRenewal()
	}
	out.account(&a.rec)
}

// nextRenewal returns the first billing date (monthly plans) or contract
// anniversary (annual plans) at or after the end.
func (a *acct) nextRenewal() time.Time {
	end := a.s.cal.end
	y, m, _ := end.Date()
	for i := range 13 {
		t := time.Date(y, m+time.Month(i), a.anchorDom, 0, 0, 0, 0, time.UTC)
		if !t.Before(end) && (!a.annual || t.Month() == a.anchorMonth) {
			return t
		}
	}
	panic("unreachable: a renewal falls within 13 months")
}
