// Package metrics scores probabilistic binary predictions against 0/1
// labels: ROC AUC, PR AUC (average precision), log loss, Brier score,
// expected calibration error (ECE), top-decile lift and recall at the top
// 20%, with percentile bootstrap intervals (Bootstrap), and the curves a
// model report draws (ROCCurve, CalibrationCurve, LiftByBucket).
//
// Every function takes optional non-negative sample weights (nil means
// unit weights). Those with a scikit-learn counterpart agree with it:
// roc_auc_score, average_precision_score, log_loss, brier_score_loss,
// roc_curve and calibration_curve(strategy="uniform"), whose bins ECE
// uses. Lift and recall count the riskiest fraction of rows by weight,
// with a group of tied scores straddling the cut counted pro rata, so
// they do not depend on how ties are ordered. The functions panic if the
// slices differ in length, which is a programming error, and return NaN
// where the metric is undefined, such as the AUC of a single class.
package metrics
