package simulate

import (
	"sort"
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
)

// auc returns the area under the ROC curve of scores against labels, by
// the rank-sum formula with ties given half credit.
func auc(scores []float64, labels []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean 1-based rank of the tie group
		for k := i; k < j; k++ {
			if labels[idx[k]] {
				rankSum += mid
				pos++
			}
		}
		i = j
	}
	neg := float64(len(idx)) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestAUC(t *testing.T) {
	tests := []struct {
		scores []float64
		labels []bool
		want   float64
	}{
		{[]float64{0.1, 0.2, 0.3, 0.4}, []bool{false, false, true, true}, 1},
		{[]float64{0.4, 0.3, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		{[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
	}
	for _, tt := range tests {
		if got := auc(tt.scores, tt.labels); got != tt.want {
			t.Errorf("auc(%v, %v) = %v, want %v", tt.scores, tt.labels, got, tt.want)
		}
	}
}

// truthSample pairs the truth probabilities of h with what happened.
type truthSample struct {
	p       []float64
	early   []float64 // the truth as of the default observation
	outcome []bool
	// group names the segment and billing cycle of each churn row.
	group []string
}

func (s *truthSample) add(p, early float64, outcome bool, group string) {
	s.p, s.early, s.outcome, s.group = append(s.p, p), append(s.early, early), append(s.outcome, outcome), append(s.group, group)
}

// rate returns the share of positive outcomes among the rows keep accepts.
func (s *truthSample) rate(keep func(i int) bool) (rate float64, n int) {
	pos := 0
	for i := range s.p {
		if keep(i) {
			n++
			if s.outcome[i] {
				pos++
			}
		}
	}
	return float64(pos) / float64(n), n
}

// truthSamples labels the churn truth rows with whether the account churned
// in that month, and the conversion rows with whether the trial converted.
func truthSamples(h *history) (churn, conversion truthSample) {
	segment := map[string]string{}
	for _, a := range h.accounts {
		segment[a.AccountID] = a.Segment
	}
	// The billing cycle of an account never changes, so its first plan
	// tells it.
	churnedIn, cycle, converted := map[[2]string]bool{}, map[string]string{}, map[string]bool{}
	for _, b := range h.changes {
		switch b.Kind {
		case features.BillingChurn:
			churnedIn[[2]string{b.AccountID, b.At.Format("2006-01")}] = true
		case features.BillingNew:
			converted[b.AccountID] = true
		}
		if _, ok := cycle[b.AccountID]; !ok {
			cycle[b.AccountID] = b.Plan[strings.LastIndexByte(b.Plan, '-')+1:]
		}
	}
	for _, r := range h.churn {
		churn.add(r.p, r.early, churnedIn[[2]string{r.account, r.month}], segment[r.account]+" "+cycle[r.account])
	}
	for _, r := range h.conversion {
		conversion.add(r.p, r.early, converted[r.account], "")
	}
	return churn, conversion
}

// TestRealism checks that a year of history has the rates of a B2B SaaS
// business, and that the truth is informative but far from perfect.
func TestRealism(t *testing.T) {
	h, _ := simulateInMemory(t, Config{Accounts: 4000, Months: 12, Seed: 3}, false)
	churn, conversion := truthSamples(h)
	// decided keeps the months that hold a churn decision: every month of
	// a monthly plan, the renewal month of an annual one.
	decided := truthSample{}
	for i, p := range churn.p {
		if p > 0 {
			decided.add(p, churn.early[i], churn.outcome[i], churn.group[i])
		}
	}
	convRate, trials := conversion.rate(func(int) bool { return true })
	tests := []struct {
		name   string
		got    float64
		lo, hi float64
	}{
		{"smb monthly churn per month", first(churn.rate(func(i int) bool { return churn.group[i] == "smb monthly" })), 0.012, 0.035},
		{"mid-market monthly churn per month", first(churn.rate(func(i int) bool { return churn.group[i] == "mid-market monthly" })), 0.008, 0.03},
		{"enterprise annual churn per month", first(churn.rate(func(i int) bool { return churn.group[i] == "enterprise annual" })), 0.002, 0.012},
		{"churn per month", first(churn.rate(func(int) bool { return true })), 0.01, 0.025},
		{"trial conversion", convRate, 0.15, 0.30},
		{"oracle churn AUC, months with a decision", auc(decided.p, decided.outcome), 0.78, 0.9},
		{"oracle churn AUC, all months", auc(churn.p, churn.outcome), 0.8, 0.93},
		{"oracle conversion AUC", auc(conversion.p, conversion.outcome), 0.78, 0.9},
		// The truth as of the default observations knows less: the
		// signals of the days between observation and decision.
		{"churn AUC at the month's start, months with a decision", auc(decided.early, decided.outcome), 0.7, 0.86},
		{"churn AUC at the month's start, all months", auc(churn.early, churn.outcome), 0.75, 0.9},
		{"conversion AUC on trial day 7", auc(conversion.early, conversion.outcome), 0.7, 0.86},
	}
	for _, tt := range tests {
		t.Logf("%s: %.4f", tt.name, tt.got)
		if tt.got < tt.lo || tt.got > tt.hi {
			t.Errorf("%s = %.4f, want within [%v, %v]", tt.name, tt.got, tt.lo, tt.hi)
		}
	}
	t.Logf("%d account-months, %d trials; rows: usage %d, tickets %d, escalations %d, surveys %d, billing %d",
		len(churn.p), trials, h.usageRows, len(h.tickets), len(h.escalations), len(h.surveys), len(h.changes))
}

func first(v float64, _ int) float64 { return v }
