// Package metrics scores probabilistic binary predictions against 0/1
// labels: ROC AUC, PR AUC (average precision), log loss and Brier score.
//
// Every function takes optional non-negative sample weights (nil means
// unit weights) and agrees with the scikit-learn function of the same
// meaning: roc_auc_score, average_precision_score, log_loss and
// brier_score_loss. The functions panic if the slices differ in length,
// which is a programming error, and return NaN where the metric is
// undefined, such as the AUC of a single class.
package metrics
