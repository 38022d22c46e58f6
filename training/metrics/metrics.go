package metrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// LogLossEpsilon bounds the probabilities LogLoss reads to
// [ε, 1−ε], so that a confident mistake costs a large but finite amount.
const LogLossEpsilon = 1e-15

// Summary holds the four metrics of one set of predictions.
type Summary struct {
	AUC     float64 `json:"auc"`
	PRAUC   float64 `json:"pr_auc"`
	LogLoss float64 `json:"log_loss"`
	Brier   float64 `json:"brier"`
}

// Evaluate computes all four metrics of probabilities p against labels y.
func Evaluate(y, p, w []float64) Summary {
	return Summary{AUC: ROCAUC(y, p, w), PRAUC: AveragePrecision(y, p, w), LogLoss: LogLoss(y, p, w), Brier: Brier(y, p, w)}
}

func check(name string, y, s, w []float64) {
	if len(s) != len(y) || (w != nil && len(w) != len(y)) {
		panic(fmt.Sprintf("metrics: %s: %d labels, %d scores, %d weights", name, len(y), len(s), len(w)))
	}
}

func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

// curve sorts the rows by descending score and returns, for each distinct
// score, the cumulative weight of positives (true positives) and negatives
// (false positives) at or above it.
func curve(y, s, w []float64) (tp, fp []float64) {
	order := make([]int, len(y))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(s[b], s[a]) })
	var t, f float64
	for k, i := range order {
		if y[i] == 1 {
			t += weight(w, i)
		} else {
			f += weight(w, i)
		}
		if k == len(order)-1 || s[order[k+1]] != s[i] {
			tp, fp = append(tp, t), append(fp, f)
		}
	}
	return tp, fp
}

// ROCAUC returns the area under the ROC curve of scores s for labels y:
// the probability that a random positive scores above a random negative,
// counting ties as one half.
func ROCAUC(y, s, w []float64) float64 {
	check("ROCAUC", y, s, w)
	tp, fp := curve(y, s, w)
	if len(tp) == 0 || tp[len(tp)-1] == 0 || fp[len(fp)-1] == 0 {
		return math.NaN()
	}
	var area, prevT, prevF float64
	for k := range tp {
		area += (fp[k] - prevF) * (tp[k] + prevT) / 2
		prevT, prevF = tp[k], fp[k]
	}
	return area / (tp[len(tp)-1] * fp[len(fp)-1])
}

// AveragePrecision returns the area under the precision-recall curve as
// scikit-learn's average_precision_score computes it: Σₖ (Rₖ − Rₖ₋₁)·Pₖ
// over descending distinct thresholds, without interpolation.
func AveragePrecision(y, s, w []float64) float64 {
	check("AveragePrecision", y, s, w)
	tp, fp := curve(y, s, w)
	if len(tp) == 0 || tp[len(tp)-1] == 0 {
		return math.NaN()
	}
	pos := tp[len(tp)-1]
	var ap, prevRecall float64
	for k := range tp {
		if tp[k]+fp[k] == 0 {
			continue
		}
		recall := tp[k] / pos
		ap += (recall - prevRecall) * tp[k] / (tp[k] + fp[k])
		prevRecall = recall
	}
	return ap
}

// LogLoss returns the weighted mean of −log p for positives and −log(1−p)
// for negatives, with p clipped to [LogLossEpsilon, 1−LogLossEpsilon].
func LogLoss(y, p, w []float64) float64 {
	check("LogLoss", y, p, w)
	return mean(y, p, w, func(y, p float64) float64 {
		p = math.Min(math.Max(p, LogLossEpsilon), 1-LogLossEpsilon)
		if y == 1 {
			return -math.Log(p)
		}
		return -math.Log1p(-p)
	})
}

// Brier returns the weighted mean squared difference between probability
// and label.
func Brier(y, p, w []float64) float64 {
	check("Brier", y, p, w)
	return mean(y, p, w, func(y, p float64) float64 { return (p - y) * (p - y) })
}

func mean(y, p, w []float64, loss func(y, p float64) float64) float64 {
	var s, total float64
	for i := range y {
		wi := weight(w, i)
		s += wi * loss(y[i], p[i])
		total += wi
	}
	if total == 0 {
		return math.NaN()
	}
	return s / total
}
