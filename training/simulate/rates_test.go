package simulate

import (
	"sort"
	"strings"
	"testing"
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

// outcomes labels the truth rows of h with what happened.
type outcomes struct {
	churnP    []float64
	churned   []bool
	segment   []string
	plan      []string
	convP     []float64
	converted []bool
}

func label(h *history) outcomes {
	var o outcomes
	churnMonth := map[[2]string]bool{}
	seg, plan := map[string]string{}, map[string]string{}
	for _, a := range h.accounts {
		seg[a.AccountID] = a.Segment
	}
	for _, b := range h.changes {
		if b.Kind == "churn" {
			churnMonth[[2]string{b.AccountID, b.At.Format("2006-01")}] = true
		}
		plan[b.AccountID] = b.Plan
	}
	for _, r := range h.churn {
		o.churnP = append(o.churnP, r.p)
		o.churned = append(o.churned, churnMonth[[2]string{r.account, r.month}])
		o.segment = append(o.segment, seg[r.account])
		o.plan = append(o.plan, plan[r.account])
	}
	conv := map[string]bool{}
	for _, b := range h.changes {
		if b.Kind == "new" {
			conv[b.AccountID] = true
		}
	}
	for _, r := range h.conversion {
		o.convP = append(o.convP, r.p)
		o.converted = append(o.converted, conv[r.account])
	}
	return o
}

func TestRates(t *testing.T) {
	h, _ := simulateInMemory(t, Config{Accounts: 4000, Months: 12, Seed: 3})
	o := label(h)
	rate := func(keep func(i int) bool) (float64, int) {
		n, c := 0, 0
		for i := range o.churnP {
			if keep(i) {
				n++
				if o.churned[i] {
					c++
				}
			}
		}
		return float64(c) / float64(n), n
	}
	for _, seg := range []string{"smb", "mid-market", "enterprise"} {
		for _, cyc := range []string{"monthly", "annual"} {
			r, n := rate(func(i int) bool { return o.segment[i] == seg && strings.HasSuffix(o.plan[i], cyc) })
			t.Logf("%s %s: monthly churn %.4f over %d account-months", seg, cyc, r, n)
		}
	}
	var ps []float64
	var ys []bool
	for i, p := range o.churnP {
		if p > 0 {
			ps, ys = append(ps, p), append(ys, o.churned[i])
		}
	}
	t.Logf("oracle churn AUC over months with a churn decision: %.3f (%d)", auc(ps, ys), len(ps))
	all, n := rate(func(int) bool { return true })
	t.Logf("all: %.4f over %d; oracle churn AUC %.3f", all, n, auc(o.churnP, o.churned))
	c := 0
	for _, v := range o.converted {
		if v {
			c++
		}
	}
	t.Logf("conversion %.3f of %d trials; oracle AUC %.3f", float64(c)/float64(len(o.converted)), len(o.converted), auc(o.convP, o.converted))
	t.Logf("rows: usage %d tickets %d escalations %d surveys %d billing %d accounts %d",
		len(h.events), len(h.tickets), len(h.escalations), len(h.surveys), len(h.changes), len(h.accounts))
}
