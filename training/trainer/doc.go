// Package trainer fits, evaluates and explains churn and conversion models
// on labelled examples that have a time: rows of (account, as-of time,
// feature vector, label) as package dataset builds them from the store.
//
// # Out of time, never at random
//
// Every evaluation splits by time. A row is observed at its as-of time T,
// but its label is only known at the end of its label window (for churn,
// T + lead + horizon + grace), which Examples.Known records. A model
// trained "at" a cut C may use only rows whose label was known by C: rows
// observed before C whose window ends after it are purged, not trained on,
// because their labels look into the period the model is tested on.
//
// Train splits the rows by as-of time into three consecutive slices:
// train, validation (early stopping, calibration and the choice of
// learner, through table.FitHoldout) and test, purging at both cuts.
// The model registered is the one fitted on the train slice, so the test
// metrics describe exactly the model that scores.
//
// Backtest repeats this at K rolling cut dates: for each cut it trains on
// what was known before it and tests on the rows observed in the span
// that follows, and reports each fold and their mean.
//
// # Metrics, drivers and the oracle
//
// Test metrics come with bootstrap 95% intervals (metrics.Bootstrap).
// Drivers rank features and groups by their mean absolute contribution on
// test rows, with the direction of each feature's effect: the sign of the
// correlation between its value and its contribution. When the examples
// carry the true probabilities of a simulation (Examples.Truth), the
// oracle AUC, the AUC of those probabilities on the same test rows, is
// reported next to the model's; and, when the simulation wrote it, that of
// the truth as of the rows' observation (Oracle.Early), which knows
// nothing of the days between the observation and the decision, as a
// model cannot, and so bounds the ratio a model can reach.
package trainer
