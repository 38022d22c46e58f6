// Package score holds what scoring an account yields, as the rest of
// serving, the store, the REST API and the dashboard share it: a Score
// with its Detail (components and reasons), and the queries that list
// current scores.
//
// The package is a leaf: it imports no other package of the service, so
// the store can persist its types and serving can produce them without
// either depending on the other.
//
// # Contracts
//
//   - A score is keyed by (AccountID, Task, AsOf, ModelVersion); storing a
//     score with a stored key replaces it.
//   - ModelVersion is the registry's version of the model that scored it.
//   - Health is 0–100 and set for churn scores only; a conversion score's
//     0–100 figure is ConversionScore, 100 × Probability (conversion scores
//     stored before this rule hold that figure in Health; read
//     ConversionScore). Band is set for churn scores only, PQL for
//     conversion scores only.
//   - Previous is NaN when the account has no earlier score for the task.
//   - A Reason states figures, not prose: the feature, its catalog
//     description and group, the account's value, the typical value and
//     the signed contribution. Its Effect follows from the sign of the
//     contribution, and its wording for a task (Effect.On, Reason.Text) is
//     built from those fields whenever it is shown, so the wording can
//     change without touching stored scores.
//   - Detail's JSON form is what the store keeps for a score. Scores stored
//     before reasons carried their description read with an empty
//     Description; Reason.What then falls back to the feature name.
package score
