package simulate

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/integrate/quad"

	"github.com/openchurn/churn/models"
)

// Random streams. Every draw comes from a generator keyed by (seed,
// account, day, stream), so an account's history on a given day does not
// depend on other accounts, on the order workers run, or on how many
// months are simulated.
const (
	streamAccount uint64 = iota + 1 // account-level attributes, drawn once
	streamUser                      // per-user attributes; the day slot holds the user index
	streamDay                       // everything that happens to an account on a day
	streamSupport                   // the support team's load in a week, shared by all accounts
	streamChannel                   // an account's acquisition channel
	streamSpend                     // a channel's spend in a month; the account slot holds the channel
	streamReplies                   // a ticket's agent replies; the day slot holds the ticket's number
)

// accountDay is the day slot of draws that are not tied to a day.
const accountDay = math.MinInt32

// rng is a SplitMix64 generator. It is a value type so that creating one
// per (account, day) costs nothing on the heap.
type rng struct{ s uint64 }

// mix64 is the SplitMix64 finaliser, a bijective avalanche of its input.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// newRNG returns the generator of (seed, account, day, stream).
func newRNG(seed, account uint64, day int64, stream uint64) rng {
	h := mix64(seed + 0x9e3779b97f4a7c15)
	h = mix64(h ^ (account+1)*0xd1b54a32d192ed03)
	h = mix64(h ^ uint64(day)*0xaef17502108ef2d9)
	h = mix64(h ^ stream*0xf1357aea2e62a9c5)
	return rng{h}
}

func (r *rng) uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.uint64()>>11) * 0x1p-53 }

// bernoulli reports true with probability p.
func (r *rng) bernoulli(p float64) bool { return r.float() < p }

// intn returns a uniform value in [0, n) for n > 0, by Lemire's
// multiply-shift (its bias is far below anything the simulator can show).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.uint64(), uint64(n))
	return int(hi)
}

// between returns a uniform integer in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// uniform returns a uniform value in [lo, hi).
func (r *rng) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// normal returns a standard normal value (Box–Muller, one value per call
// to keep the stream position independent of earlier calls).
func (r *rng) normal() float64 {
	u := 1 - r.float() // in (0, 1], so the log is finite
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

// logUniform returns a value whose logarithm is uniform in [ln lo, ln hi).
func (r *rng) logUniform(lo, hi float64) float64 {
	return math.Exp(r.uniform(math.Log(lo), math.Log(hi)))
}

// poisson returns a Poisson variate with mean lambda, by inversion. Means
// here are small (tickets per account-day), so most draws are 0, and
// u < 1-lambda ≤ e^-lambda settles those without computing the exp.
// Large means use the normal approximation.
func (r *rng) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.normal())))
	}
	u := r.float()
	if u < 1-lambda {
		return 0
	}
	p := math.Exp(-lambda)
	cdf, k := p, 0
	for u >= cdf && k < 1000 { // the cap guards against rounding when cdf nears 1
		k++
		p *= lambda / float64(k)
		cdf += p
	}
	return k
}

// binomial returns the number of successes in n trials of probability p;
// n is small here (uses folded into one usage row).
func (r *rng) binomial(n int, p float64) int {
	k := 0
	for range n {
		if r.float() < p {
			k++
		}
	}
	return k
}

// pick returns an index drawn with the given weights, which need not sum
// to one.
func (r *rng) pick(weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.float() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// hermiteNodes and hermiteWeights hold Gauss–Hermite quadrature for
// E[f(Z)], Z ~ N(0, 1): the nodes are scaled by √2 and the weights by 1/√π.
var hermiteNodes, hermiteWeights = func() ([]float64, []float64) {
	const n = 24
	x, w := make([]float64, n), make([]float64, n)
	quad.Hermite{}.FixedLocations(x, w, math.Inf(-1), math.Inf(1))
	for i := range x {
		x[i] *= math.Sqrt2
		w[i] /= math.SqrtPi
	}
	return x, w
}()

// noisyProbability returns E[models.Logistic(logit + sd·Z)] for a standard normal
// Z: the probability of an event whose log-odds carry unobserved normal
// noise, with that noise integrated out.
func noisyProbability(logit, sd float64) float64 {
	var p float64
	for i, x := range hermiteNodes {
		p += hermiteWeights[i] * models.Logistic(logit+sd*x)
	}
	return p
}
