package trainer

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/openchurn/churn/models"
)

// Driver is the global importance of one feature or group.
type Driver struct {
	Name string `json:"name"`
	// Group is the feature's group; empty for a group's own entry.
	Group string `json:"group,omitempty"`
	// MeanAbs is the mean absolute contribution to the raw score
	// (log-odds) over the rows explained.
	MeanAbs float64 `json:"mean_abs"`
	// Direction is the correlation between the feature's value and its
	// contribution: near +1 when more of it raises the risk, near −1 when
	// more of it lowers it. It is 0 for groups, categorical features and
	// features that never vary.
	Direction float64 `json:"direction"`
}

// Effect names the direction: "raises", "lowers" or "mixed".
func (d Driver) Effect() string {
	switch {
	case d.Direction >= 0.3:
		return "raises"
	case d.Direction <= -0.3:
		return "lowers"
	}
	return "mixed"
}

// Drivers explains rows of d (up to limit of them, evenly spaced) with
// a's model and returns the features and the groups by decreasing mean
// absolute contribution. Rows are explained in parallel.
func Drivers(a *models.Artifact, d *models.Dataset, limit int) (features, groups []Driver) {
	schema := a.Schema()
	rows := evenly(d.Rows(), limit)
	contrib := make([][]float64, len(rows)) // contrib[k][j]: row rows[k], feature j
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			row := make([]float64, len(schema))
			for k := w; k < len(rows); k += workers {
				d.Row(rows[k], row)
				contrib[k] = a.Model.Contributions(row, nil)
			}
		})
	}
	wg.Wait()

	n := float64(len(rows))
	for j, f := range schema {
		dr := Driver{Name: f.Name, Group: f.Group}
		x, c := make([]float64, 0, len(rows)), make([]float64, 0, len(rows))
		for k, i := range rows {
			dr.MeanAbs += math.Abs(contrib[k][j]) / n
			if v := d.Columns[j][i]; !math.IsNaN(v) {
				x, c = append(x, v), append(c, contrib[k][j])
			}
		}
		if f.Kind == models.Numeric {
			dr.Direction = correlation(x, c)
		}
		features = append(features, dr)
	}
	byGroup := map[string]*Driver{}
	for k := range rows {
		for _, g := range models.SumByGroup(schema, contrib[k]) {
			dr := byGroup[g.Group]
			if dr == nil {
				dr = &Driver{Name: g.Group}
				byGroup[g.Group] = dr
			}
			dr.MeanAbs += math.Abs(g.Value) / n
		}
	}
	for _, dr := range byGroup {
		groups = append(groups, *dr)
	}
	byImportance := func(a, b Driver) int {
		return cmp.Or(cmp.Compare(b.MeanAbs, a.MeanAbs), cmp.Compare(a.Name, b.Name))
	}
	slices.SortFunc(features, byImportance)
	slices.SortFunc(groups, byImportance)
	return features, groups
}

// evenly returns up to limit row indices of n, evenly spaced; all of them
// when limit ≤ 0 or limit ≥ n.
func evenly(n, limit int) []int {
	if limit <= 0 || limit > n {
		limit = n
	}
	rows := make([]int, limit)
	for k := range rows {
		rows[k] = k * n / limit
	}
	return rows
}

// correlation returns Pearson's correlation of x and y, or 0 when either
// is constant.
func correlation(x, y []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(x))
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}
