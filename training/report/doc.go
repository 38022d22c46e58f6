// Package report renders a registered model's evaluation as one
// self-contained HTML file: the test metrics with their intervals, the ROC
// and calibration curves, lift by decile, the backtest, the top drivers,
// the score distribution and the feature catalog. Charts are inline SVG
// drawn here, and the page loads nothing from elsewhere, so it opens
// offline and can be mailed or archived as it is.
package report
