// Package table fits and applies models on flat feature tables, read
// from CSV (one row per example, one column per feature, plus a label
// column and optionally an id column) or built in memory.
//
// Reading infers each column's kind from its values. A column is numeric
// when every non-blank value parses as a finite number, and categorical
// otherwise, with its categories sorted. Blank cells (after trimming
// spaces) are missing values. When a table is scored, categories not seen
// in training become missing, while a numeric column holding something
// that is not a number is an error naming the file, line and column.
//
// Fitting (Fit) uses stratified k-fold cross-fitting on the training
// table:
//
//   - each candidate learner is fitted k times, each time on k−1 folds,
//     and scores the remaining fold; gradient-boosted trees stop early on
//     that fold, so the number of rounds is chosen on data the trees were
//     not grown on;
//   - the out-of-fold raw scores are calibrated by Platt scaling and by
//     isotonic regression, each evaluated out of fold as well, and the
//     calibration of lower log loss is kept;
//   - trees are bagged: five ensembles with 80% row and column sampling,
//     differing only in seed, are averaged (models.Bag);
//   - a categorical feature with many categories (more than 16) is
//     screened: the learner is cross-fitted again with the feature masked
//     as missing, and the mask is kept if the out-of-fold log loss drops;
//   - groups of features named by Options.Screen (the trainer names the
//     per-event features) are screened the same way, as a whole;
//   - logistic regression is evaluated with each ridge penalty of
//     Options.LogRegLambdas, and another than the reference LogReg.Lambda
//     is kept only if it lowers the log loss by more than a standard
//     error of the row-by-row difference;
//   - with --algo auto, the learner of lowest calibrated out-of-fold log
//     loss wins;
//   - the winner is refitted on all rows (trees with the mean early-stopped
//     round count) and its calibrator is fitted on all out-of-fold scores.
//
// The validation metrics reported are those out-of-fold figures, so every
// row of the table counts once as held-out data. Cross-fitting costs k+1
// fits per learner instead of two, which on tables of tens of thousands
// of rows is seconds, and it uses all rows both to grow the final model
// and to calibrate it.
//
// FitHoldout runs the same learners, bagging, screening, calibration
// choice and selection with one held-out validation set instead of folds,
// for data that must not be split at random: the trainer of store-built
// datasets (training/trainer) splits by time and passes the earlier rows
// to train on and a later slice to validate on.
package table
