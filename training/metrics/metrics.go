package metrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/openchurn/churn/models"
)

// LogLossEpsilon bounds the probabilities LogLoss reads to
// [ε, 1−ε], so that a confident mistake costs a large but finite amount.
const LogLossEpsilon = 1e-15

// CalibrationBins is the number of equal-width probability bins of the
// ECE that Evaluate reports.
const CalibrationBins = 10

// TopDecile and TopFifth are the fractions of the riskiest rows that
// Evaluate's lift and recall look at.
const (
	TopDecile = 0.1
	TopFifth  = 0.2
)

// Summary holds the metrics of one set of predictions.
type Summary struct {
	AUC     float64 `json:"auc"`
	PRAUC   float64 `json:"pr_auc"`
	LogLoss float64 `json:"log_loss"`
	Brier   float64 `json:"brier"`
	// ECE is the expected calibration error over CalibrationBins bins.
	ECE float64 `json:"ece"`
	// Lift is the top-decile lift and Recall the recall at the top fifth.
	Lift   float64 `json:"top_decile_lift"`
	Recall float64 `json:"recall_at_top20"`
}

// Evaluate computes every metric of probabilities p against labels y.
func Evaluate(y, p, w []float64) Summary {
	check("Evaluate", y, p, w)
	return rank(y, p).summary(w)
}

// summary computes the metrics with weights w over the ranked rows.
func (r ranked) summary(w []float64) Summary {
	tp, fp := r.curve(w)
	return Summary{
		AUC:     rocArea(tp, fp),
		PRAUC:   averagePrecision(tp, fp),
		LogLoss: mean(r.y, r.s, w, logLoss),
		Brier:   mean(r.y, r.s, w, brier),
		ECE:     ece(calibrationBins(r.y, r.s, w, CalibrationBins)),
		Lift:    lift(tp, fp, TopDecile),
		Recall:  recall(tp, fp, TopFifth),
	}
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

// ranked holds the rows in descending score order, so that the metrics
// that depend on the order alone sort once however often they are
// recomputed with other weights, as the bootstrap does.
type ranked struct {
	y, s  []float64
	order []int
}

func rank(y, s []float64) ranked {
	order := make([]int, len(y))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(s[b], s[a]) })
	return ranked{y: y, s: s, order: order}
}

// curve returns, for each distinct score in descending order, the
// cumulative weight of positives (true positives) and negatives (false
// positives) at or above it.
func (r ranked) curve(w []float64) (tp, fp []float64) {
	var t, f float64
	for k, i := range r.order {
		if r.y[i] == 1 {
			t += weight(w, i)
		} else {
			f += weight(w, i)
		}
		if k == len(r.order)-1 || r.s[r.order[k+1]] != r.s[i] {
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
	return rocArea(rank(y, s).curve(w))
}

func rocArea(tp, fp []float64) float64 {
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

// ROCCurve returns the points of the ROC curve of scores s, from (0, 0)
// to (1, 1): the false and true positive rates of flagging every row
// scoring at or above each distinct score. It returns nil when y has a
// single class.
func ROCCurve(y, s, w []float64) (fpr, tpr []float64) {
	check("ROCCurve", y, s, w)
	tp, fp := rank(y, s).curve(w)
	if len(tp) == 0 || tp[len(tp)-1] == 0 || fp[len(fp)-1] == 0 {
		return nil, nil
	}
	fpr, tpr = []float64{0}, []float64{0}
	for k := range tp {
		fpr = append(fpr, fp[k]/fp[len(fp)-1])
		tpr = append(tpr, tp[k]/tp[len(tp)-1])
	}
	return fpr, tpr
}

// AveragePrecision returns the area under the precision-recall curve as
// scikit-learn's average_precision_score computes it: Σₖ (Rₖ − Rₖ₋₁)·Pₖ
// over descending distinct thresholds, without interpolation.
func AveragePrecision(y, s, w []float64) float64 {
	check("AveragePrecision", y, s, w)
	return averagePrecision(rank(y, s).curve(w))
}

func averagePrecision(tp, fp []float64) float64 {
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
	return mean(y, p, w, logLoss)
}

func logLoss(y, p float64) float64 {
	p = math.Min(math.Max(p, LogLossEpsilon), 1-LogLossEpsilon)
	return models.LogLoss(y, models.Logit(p))
}

// Brier returns the weighted mean squared difference between probability
// and label.
func Brier(y, p, w []float64) float64 {
	check("Brier", y, p, w)
	return mean(y, p, w, brier)
}

func brier(y, p float64) float64 { return (p - y) * (p - y) }

func mean(y, p, w []float64, loss func(y, p float64) float64) float64 {
	var s, total float64
	for i := range y {
		wi := weight(w, i)
		if wi == 0 {
			continue
		}
		s += wi * loss(y[i], p[i])
		total += wi
	}
	if total == 0 {
		return math.NaN()
	}
	return s / total
}

// top returns the weight of positives among the riskiest fraction frac of
// the total weight, and the weights of all positives and of all rows. A
// group of tied scores straddling the cut counts pro rata, so the result
// does not depend on how ties happen to be ordered.
func top(tp, fp []float64, frac float64) (flagged, pos, total float64) {
	if len(tp) == 0 {
		return 0, 0, 0
	}
	pos, total = tp[len(tp)-1], tp[len(tp)-1]+fp[len(fp)-1]
	cut := frac * total
	var prevT, prevAll float64
	for k := range tp {
		all := tp[k] + fp[k]
		if all >= cut {
			if all > prevAll {
				flagged = prevT + (cut-prevAll)*(tp[k]-prevT)/(all-prevAll)
			} else {
				flagged = prevT
			}
			return flagged, pos, total
		}
		prevT, prevAll = tp[k], all
	}
	return pos, pos, total
}

func lift(tp, fp []float64, frac float64) float64 {
	flagged, pos, total := top(tp, fp, frac)
	if pos == 0 || frac <= 0 {
		return math.NaN()
	}
	return (flagged / (frac * total)) / (pos / total)
}

func recall(tp, fp []float64, frac float64) float64 {
	flagged, pos, _ := top(tp, fp, frac)
	if pos == 0 {
		return math.NaN()
	}
	return flagged / pos
}

// Lift returns the positive rate among the riskiest fraction frac of the
// rows (by weight, scores descending) divided by the overall positive
// rate: 3 means the flagged rows hold three times their share of
// positives. Tied scores at the cut count pro rata.
func Lift(y, s, w []float64, frac float64) float64 {
	check("Lift", y, s, w)
	tp, fp := rank(y, s).curve(w)
	return lift(tp, fp, frac)
}

// RecallAtTop returns the share of all positives (by weight) found among
// the riskiest fraction frac of the rows. Tied scores at the cut count
// pro rata.
func RecallAtTop(y, s, w []float64, frac float64) float64 {
	check("RecallAtTop", y, s, w)
	tp, fp := rank(y, s).curve(w)
	return recall(tp, fp, frac)
}

// LiftByBucket splits the rows, riskiest first, into n buckets of equal
// weight and returns each bucket's positive rate divided by the overall
// rate; n = 10 gives lift by decile. Tied scores straddling a boundary
// count pro rata. It returns nil when there are no positives.
func LiftByBucket(y, s, w []float64, n int) []float64 {
	check("LiftByBucket", y, s, w)
	tp, fp := rank(y, s).curve(w)
	var prev float64
	out := make([]float64, n)
	for b := range n {
		flagged, pos, total := top(tp, fp, float64(b+1)/float64(n))
		if pos == 0 {
			return nil
		}
		out[b] = ((flagged - prev) / (total / float64(n))) / (pos / total)
		prev = flagged
	}
	return out
}

// Bin is one probability bin of a calibration curve.
type Bin struct {
	// Lo and Hi bound the bin's predicted probabilities: (Lo, Hi], and
	// [Lo, Hi] for the first bin.
	Lo, Hi float64
	// Weight is the bin's total weight; Predicted its mean predicted
	// probability and Observed its positive rate.
	Weight    float64 `json:"weight"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// CalibrationCurve sorts the predictions into n equal-width bins of
// probability and returns the non-empty ones, as scikit-learn's
// calibration_curve(strategy="uniform") does: bin k holds probabilities in
// (k/n, (k+1)/n], the first one 0 too.
func CalibrationCurve(y, p, w []float64, n int) []Bin {
	check("CalibrationCurve", y, p, w)
	return calibrationBins(y, p, w, n)
}

func calibrationBins(y, p, w []float64, n int) []Bin {
	// The inner edges are computed as numpy.linspace does, so that a
	// probability equal to an edge lands in the same bin as there.
	inner := make([]float64, n-1)
	for k := range inner {
		inner[k] = float64(k+1) * (1 / float64(n))
	}
	bins := make([]Bin, n)
	for i := range y {
		wi := weight(w, i)
		if wi == 0 {
			continue
		}
		k, _ := slices.BinarySearch(inner, p[i])
		bins[k].Weight += wi
		bins[k].Predicted += wi * p[i]
		bins[k].Observed += wi * y[i]
	}
	out := bins[:0]
	for k, b := range bins {
		if b.Weight == 0 {
			continue
		}
		b.Lo, b.Hi = float64(k)/float64(n), float64(k+1)/float64(n)
		b.Predicted /= b.Weight
		b.Observed /= b.Weight
		out = append(out, b)
	}
	return out
}

// ECE returns the expected calibration error of probabilities p over n
// equal-width bins (as in CalibrationCurve): the weight-averaged absolute
// difference between each bin's mean prediction and its positive rate.
func ECE(y, p, w []float64, n int) float64 {
	check("ECE", y, p, w)
	return ece(calibrationBins(y, p, w, n))
}

func ece(bins []Bin) float64 {
	var e, total float64
	for _, b := range bins {
		e += b.Weight * math.Abs(b.Predicted-b.Observed)
		total += b.Weight
	}
	if total == 0 {
		return math.NaN()
	}
	return e / total
}
