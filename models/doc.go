// Package models holds the numeric learners behind the churn-risk and
// trial-to-paid scores: histogram gradient-boosted trees, regularised logistic
// regression, probability calibration and per-feature explanations, together
// with the versioned JSON artifacts that carry a fitted model.
//
// The package is Go on gonum, without cgo. On amd64 the histogram loop of
// the tree learner is an SSE2 assembly kernel (gbdt_hist_amd64.s) that sums
// exactly what its Go equivalent sums; the Go loop runs elsewhere and under
// the purego build tag. The package does no I/O of its own: callers hand it
// a Dataset built in memory and get back a model that predicts raw log-odds,
// calibrated probabilities and signed contributions for each feature.
//
// The learners share one objective, the binary log loss on log-odds
// (Logistic, LogLoss, LogLossDerivatives in objective.go), which
// training/metrics reports too.
package models
