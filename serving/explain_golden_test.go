package serving_test

import (
	"encoding/json"
	"flag"
	"maps"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/openchurn/churn/serving/score"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// explainedGolden holds every score, with its components and reasons in
// full, that a batch stored for the legacy store (see openLegacyStore).
// It was first written by commit 4859185, the last before TreeSHAP was
// made faster (and after reasons became one actionable feature per
// signal), with -update, and rewritten when reasons that read as their
// typical value gave way to the next; see
// TestBatchStoresTheGoldenExplanations.
const explainedGolden = "../testdata/serving/explained-scores.golden.json"

// explained is what the golden file keeps of a stored score: everything
// that the model and its explanation decide (reasons without their
// descriptions, which are the catalog's).
type explained struct {
	Key          string                     `json:"key"`
	ModelVersion int64                      `json:"model_version"`
	Probability  float64                    `json:"probability"`
	Health       float64                    `json:"health"`
	Band         string                     `json:"band"`
	PQL          bool                       `json:"pql"`
	Components   map[string]score.Component `json:"components"`
	Reasons      []score.Reason             `json:"reasons"`
}

// TestBatchStoresTheGoldenExplanations checks that a batch on a fixed
// simulated store, with a bagged GBDT churn model and a logistic
// conversion model, stores the probabilities, bands, components and top
// reasons it stored before TreeSHAP was made faster: the same reasons in
// the same order with the same values, and contributions equal up to
// floating-point rounding (1e-9 of a log-odds unit, far below the 0.01
// any page shows).
func TestBatchStoresTheGoldenExplanations(t *testing.T) {
	stored := scoreLegacyStore(t, openLegacyStore(t))
	var got []explained
	for _, key := range slices.Sorted(maps.Keys(stored)) {
		sc := stored[key]
		for i := range sc.Detail.Reasons {
			sc.Detail.Reasons[i].Description = "" // the catalog's, not the explanation's
		}
		got = append(got, explained{Key: key, ModelVersion: sc.ModelVersion, Probability: sc.Probability, Health: sc.Health,
			Band: sc.Band, PQL: sc.PQL, Components: sc.Detail.Components, Reasons: sc.Detail.Reasons})
	}
	if *update {
		// One score a line: small, and a diff names the accounts.
		b := []byte("[\n")
		for i, e := range got {
			line, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if b = append(b, line...); i < len(got)-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		if err := os.WriteFile(explainedGolden, append(b, "]\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want []explained
	readJSON(t, explainedGolden, &want)
	if len(got) != len(want) {
		t.Fatalf("%d scores stored, the golden file holds %d", len(got), len(want))
	}
	gbdt := 0
	for i, w := range want {
		g := got[i]
		if g.Key != w.Key || g.ModelVersion != w.ModelVersion || g.Probability != w.Probability || g.Health != w.Health ||
			g.Band != w.Band || g.PQL != w.PQL {
			t.Errorf("%s: stored %+v, want %+v", w.Key, g, w)
			continue
		}
		if len(g.Components) != len(w.Components) {
			t.Errorf("%s: components %v, want %v", w.Key, g.Components, w.Components)
		}
		for group, wc := range w.Components {
			if gc := g.Components[group]; !near(gc.Contribution, wc.Contribution) || !near(gc.Score, wc.Score) {
				t.Errorf("%s: component %s is %+v, want %+v", w.Key, group, gc, wc)
			}
		}
		if len(g.Reasons) != len(w.Reasons) {
			t.Errorf("%s: %d reasons, want %d", w.Key, len(g.Reasons), len(w.Reasons))
			continue
		}
		for j, wr := range w.Reasons {
			gr := g.Reasons[j]
			c := gr
			c.Contribution = wr.Contribution
			if !near(gr.Contribution, wr.Contribution) || !sameJSON(t, c, wr) {
				t.Errorf("%s: reason %d is %+v, want %+v", w.Key, j, gr, wr)
			}
		}
		if w.ModelVersion == 3 {
			gbdt++
		}
	}
	if gbdt < 100 {
		t.Errorf("only %d scores of the bagged GBDT model compared", gbdt)
	}
}

// near reports whether a and b are equal up to rounding.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9 }

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
