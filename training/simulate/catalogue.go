package simulate

import "math/bits"

// Feature is one product feature in the simulated catalogue.
type Feature struct {
	// Name is the value written to the usage_events feature column.
	Name string
	// Key marks the features whose adoption drives trial conversion and
	// retention: activating them during a trial raises the conversion
	// probability, and accounts that use them engage more.
	Key bool
	// use is the chance that an active user who has adopted the feature
	// uses it on a given day.
	use float64
	// core features are adopted by every account from its first day.
	core bool
}

// Features is the product catalogue, in the order of its bit in an
// account's adoption mask. It must not be modified.
var Features = []Feature{
	{Name: "dashboard", use: 0.361, core: true},
	{Name: "search", use: 0.145, core: true},
	{Name: "reports", Key: true, use: 0.18},
	{Name: "integrations", Key: true, use: 0.087},
	{Name: "workflows", Key: true, use: 0.145},
	{Name: "automations", Key: true, use: 0.087},
	{Name: "comments", use: 0.109},
	{Name: "mentions", use: 0.058},
	{Name: "file_sharing", use: 0.072},
	{Name: "templates", use: 0.058},
	{Name: "export", use: 0.043},
	{Name: "import", use: 0.021},
	{Name: "api", use: 0.037},
	{Name: "alerts", use: 0.072},
	{Name: "calendar", use: 0.058},
	{Name: "mobile_app", use: 0.087},
	{Name: "sso", use: 0.014},
	{Name: "audit_log", use: 0.014},
	{Name: "admin_settings", use: 0.021},
	{Name: "billing_portal", use: 0.008},
}

// Masks of the catalogue by role, computed once.
var (
	coreMask, keyMask uint32
	allMask           = uint32(1)<<len(Features) - 1
)

func init() {
	for i, f := range Features {
		if f.core {
			coreMask |= 1 << i
		}
		if f.Key {
			keyMask |= 1 << i
		}
	}
}

func popcount(m uint32) int { return bits.OnesCount32(m) }

// segment holds the parameters of one customer segment. Churn parameters
// are logits; the monthly rates they produce are reported by the tests.
type segment struct {
	name string
	// Mix weights of existing customers and of self-serve trials.
	existingWeight, trialWeight float64
	// Seats are log-uniform in [seatsLo, seatsHi].
	seatsLo, seatsHi float64
	// plans are the plan tiers sold to the segment, with their weights.
	plans       []int
	planWeights []float64
	// annual is the share of customers on annual contracts.
	annual float64
	// owners is the range of rep numbers that own the segment's accounts.
	ownerLo, ownerHi int
	// churnBase and renewBase are the logits of churning at a monthly
	// billing date and of not renewing an annual contract, for an account
	// whose signals are all neutral.
	churnBase, renewBase float64
	// ticketRate is the expected tickets per day of a one-seat account.
	ticketRate float64
	// responseFactor scales first-response times (enterprise support is
	// staffed faster).
	responseFactor float64
}

const (
	smb = iota
	midMarket
	enterprise
)

var segments = []segment{
	smb: {name: "smb", existingWeight: 0.66, trialWeight: 0.80, seatsLo: 1.5, seatsHi: 9,
		plans: []int{starter, team}, planWeights: []float64{0.55, 0.45}, annual: 0.25, ownerLo: 1, ownerHi: 10,
		churnBase: -5.3, renewBase: -3.1, ticketRate: 0.0045, responseFactor: 1.2},
	midMarket: {name: "mid-market", existingWeight: 0.27, trialWeight: 0.18, seatsLo: 8, seatsHi: 40,
		plans: []int{team, business}, planWeights: []float64{0.4, 0.6}, annual: 0.6, ownerLo: 11, ownerHi: 16,
		churnBase: -5.7, renewBase: -3.6, ticketRate: 0.0035, responseFactor: 1.0},
	enterprise: {name: "enterprise", existingWeight: 0.07, trialWeight: 0.02, seatsLo: 40, seatsHi: 160,
		plans: []int{business, enterprisePlan}, planWeights: []float64{0.3, 0.7}, annual: 0.95, ownerLo: 17, ownerHi: 20,
		churnBase: -6.0, renewBase: -4.6, ticketRate: 0.0025, responseFactor: 0.6},
}

// Plan tiers and their list price per seat per month. Annual contracts
// are billed at a discount; the plan column reads tier-cycle, e.g.
// team-annual.
const (
	starter = iota
	team
	business
	enterprisePlan
)

var tiers = []struct {
	name  string
	price float64
}{
	starter:        {"starter", 12},
	team:           {"team", 29},
	business:       {"business", 49},
	enterprisePlan: {"enterprise", 79},
}

const (
	annualDiscount = 0.85
	// trialPlan is the plan of a trial that has not converted.
	trialPlan = "trial"
)

// planName returns the plan column of a tier and billing cycle.
func planName(tier int, annual bool) string {
	if annual {
		return planNames[tier][1]
	}
	return planNames[tier][0]
}

// planNames holds the monthly and annual plan names of every tier, built
// once so that naming a plan does not allocate.
var planNames = func() [][2]string {
	n := make([][2]string, len(tiers))
	for i, t := range tiers {
		n[i] = [2]string{t.name + "-monthly", t.name + "-annual"}
	}
	return n
}()

// Ticket vocabularies. Weights are the normal mix; during a bad release
// tickets shift to bugs, integrations and performance.
var (
	ticketCategories       = []string{"how-to", "bug", "billing", "integration", "performance", "account-access", "feature-request"}
	ticketCategoryWeights  = []float64{0.30, 0.22, 0.10, 0.12, 0.08, 0.10, 0.08}
	incidentCategoryWeight = []float64{0.08, 0.45, 0.02, 0.25, 0.18, 0.01, 0.01}
	// priorityWeights are the normal mix of features.Priorities; incidents
	// use incidentPriorityWeights.
	priorityWeights         = []float64{0.25, 0.50, 0.18, 0.07}
	incidentPriorityWeights = []float64{0.05, 0.30, 0.40, 0.25}
	// responseSLAHours is the target first-response time of each priority.
	responseSLAHours = []float64{24, 8, 4, 1}
	// resolveHours is the median time from first response to resolution.
	resolveHours = []float64{72, 30, 16, 6}
)

// Escalation notes by cause. Some hold commas and quotes, as real CRM
// notes do, so that consumers must handle CSV quoting.
var (
	notesChampionLeft = []string{"champion left the company", "main admin left, new contact unknown", `our sponsor "moved on"; need a new champion`}
	notesIncident     = []string{"outage after release, customer angry", "integration broken since last release", "data sync errors reported by several users"}
	notesTicket       = []string{"ticket escalated to engineering", "slow support response, customer frustrated", "repeated issue, asked for a call with management"}
	notesRisk         = []string{"renewal at risk, evaluating competitors", "asked for a discount", "budget cuts announced", "low adoption flagged by CSM"}
	notesPositive     = []string{"wants to roll out to another team", "exec sponsor asked for an expansion quote", "volunteered for a case study", "asked about the enterprise tier"}
)

// Company-name parts: names are Prefix+suffix+legal form, not unique.
var (
	namePrefixes = []string{"Bright", "Blue", "North", "Silver", "Red", "Green", "Swift", "Clear", "Deep", "True",
		"Iron", "Open", "Bold", "Quiet", "Prime", "Summit", "Cedar", "Harbor", "Maple", "Stone"}
	nameSuffixes = []string{"wave", "field", "point", "line", "works", "leaf", "path", "ridge", "gate", "forge",
		"bridge", "peak", "stack", "loop", "grid", "scale", "spring", "craft", "mark", "hub"}
	nameForms = []string{"", " Labs", " Inc", ", Inc.", " Ltd", " GmbH", " & Co", " Systems", " Group", " Analytics"}
)
