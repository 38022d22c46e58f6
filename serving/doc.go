// Package serving scores accounts with the registry's active models and
// turns scores into what customer-success and sales reps act on.
//
// # Scores
//
// A Scorer loads the active model of each task (churn, conversion) from
// the registry and reloads it when the active version changes. Scoring an
// account as of a time T builds its feature vector from records known
// before T, exactly as training did (the trainer's feature configuration is
// read from the model's details), and yields:
//
//   - the calibrated probability, with its horizon stated (for churn by
//     default: churns in the 30 days that follow a 7-day lead after T);
//   - for churn, the health score 100 × (1 − p)^(365/H) for a horizon of H
//     days, a monotone transform read as "the chance, in percent, that the
//     account is still a customer in a year if today's risk held", and its
//     band: green at 80 and above, yellow at 60 and above, red below
//     (configurable);
//   - for conversion, a 0–100 score 100 × p (score.Score.ConversionScore;
//     Health is left zero) and the PQL flag;
//   - component scores per feature group (usage, support, sentiment,
//     commercial, and trial and firmographic where they apply): the group's
//     summed contribution c in log-odds mapped to 100 × σ(−c) for churn and
//     100 × σ(c) for conversion, so 50 means "moves nothing" and higher is
//     always better;
//   - the top 5 reasons, as figures (package score): feature, the
//     catalog's description, value, typical value (the median over a
//     fixed, uniform sample of the eligible accounts, whole ranges of the
//     shard hash, as of the end of the model's training window) and
//     signed contribution; their wording
//     is built from those fields where they are shown;
//   - expected revenue at risk p × ARR, with ARR = 12 × the MRR as of T;
//   - the previous score (the latest earlier as-of) and so the delta;
//   - as_of, the model version and a fingerprint of the inputs (catalog
//     version, model version and the exact feature values).
//
// The PQL threshold flags the smallest top share of trials that captured
// at least 60% of conversions in the model's test set. The trainer stores
// the test set's scores as a 20-bin histogram in the model's details, so
// the threshold is the lower edge of the top bins that hold 60% of the
// test conversions; for a model registered without that histogram, the
// reference trials' expected conversions stand in, and Model.PQLSource
// says which was used.
//
// # Batch scoring
//
// Batch streams a shard's histories through the feature builders and the
// scorer on the training sweep's workers (dataset.Stream, in account
// order, with bounded memory), stores the scores in transactions of 256
// accounts keyed by (account, task, as_of, model version), and then
// evaluates the alert rules for those accounts. A killed run leaves whole
// transactions behind and a re-run replaces them, so it is safe to kill and
// run again, and shards can run concurrently on one PostgreSQL.
//
// # Ingestion-time alerts
//
// AfterIngest is called by both ingestion paths (HTTP and churnctl ingest)
// after a load commits, so that a negative escalation raises its alert at
// once rather than at the next batch.
package serving
