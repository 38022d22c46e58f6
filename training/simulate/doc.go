// Package simulate generates synthetic but realistic histories of a B2B
// SaaS business, as the canonical records of package features plus the
// hidden ground truth, for tests, demos and model development.
//
// # Model
//
// Accounts are a mix of customers that exist at the start (tenure drawn
// from an exponential distribution, some of them converted trials) and
// self-serve trials arriving uniformly over Config.TrialWindow days. Each
// has a segment (smb, mid-market, enterprise) that sets its seats, plan
// tiers, share of annual contracts, owner pool (rep-01 … rep-20) and
// support speed; MRR is seats × the tier's list price, discounted for
// annual contracts. Plans read tier-cycle (team-monthly,
// enterprise-annual); a trial that has not converted has plan "trial", its
// invited users as seats and no MRR.
//
// Behaviour is driven by a latent engagement z per account: a
// mean-reverting walk around the account's own level, hit by shocks (a
// bad release that raises errors and opens a ticket storm, a champion
// leaving, a new executive sponsor) and nudged by slow or poor support.
// Engagement is never written. It shows through what a product observes:
// the number of engaged seats and their daily activity, the breadth of
// features used (20 features, 4 of them key), ticket volume and priority,
// NPS answers, and escalations flagged by CSMs.
//
// Decisions depend on those observed signals, not on z directly, plus
// unobserved noise, so models can learn them but not perfectly. Monthly
// plans may churn at every billing date and annual ones at renewal; the
// churn logit rises with usage decline, low seat utilisation, ticket
// storms, slow first responses, detractor NPS and negative escalations. A
// trial decides once, between its 7th and 14th day, from the key features
// it activated, its active days and users, and its tickets. Paying
// accounts also expand (high utilisation, positive escalations) or
// contract, and a few churned accounts reactivate.
//
// # Rates
//
// With the built-in parameters, a year of 4,000 accounts (TestRealism)
// shows monthly churn of about 2.3% for SMB monthly plans, 1.9% for
// mid-market monthly plans and 0.9% for enterprise annual contracts
// (1.7% over all paying account-months), trial conversion of about 20%,
// and an oracle AUC (truth probability against outcome) of about 0.84 for
// churn in months with a churn decision and 0.82 for conversion. Usage
// comes to roughly 30 rows per account-month, about 34 million rows for
// 100,000 accounts over 12 months.
//
// # Outputs
//
// Run and Generate write the six canonical tables as CSV (see
// recordio.AppendHeader for the columns) and two truth files, which
// Generate keeps in a directory of their own. TruthChurnFile has, for
// every account paying at the start of a simulated month (Start plus whole
// months; the month column is the YYYY-MM of its first day), the
// probability under the model that it churns in that month: 0 in months
// without a churn decision, such as mid-term months of an annual contract.
// TruthConversionFile has, for every trial decided before the end, its
// conversion probability.
//
// Those probabilities read the signals of the decision day, which a model
// observing earlier cannot see. TruthChurnStartFile and
// TruthConversionWeekFile hold the same rows' probabilities on the signals
// as they stood when the month began, and at the start of trial day 7:
// the truth as of the default observations, and nearly the best a model
// reading the records up to then can reach. On the year of TestRealism
// they reach an AUC of about 0.86 for churn over all months (0.88 for the
// truth) and 0.80 for conversion (0.81).
//
// Usage rows aggregate one user's use of one feature on one day; they
// carry no event_id, since loaders derive one from their content.
//
// # Determinism and prefix stability
//
// Every draw comes from a SplitMix64 generator keyed by (seed, account,
// day, stream), and nothing is drawn from the number of months. So the
// same configuration gives byte-identical files whatever the number of
// workers, and a longer run with the same seed extends a shorter one:
// every event before the shorter run's end is identical in both. (Files
// are identical on one CPU architecture and Go release; elsewhere fused
// multiply-adds and the math package's assembly may round differently and
// flip a rare draw.)
//
// Two things are written as known at the end of the run, and so differ in
// the shorter one. A ticket's first response and resolution (and its CSAT,
// given on resolution) that fall after the end are blank. The accounts
// table is a snapshot as of the end: plan, seats and MRR after the last
// billing change before the end (seats 0 once churned), converted_at and
// churned_at only if they happened before it (churned_at is cleared by a
// reactivation), and renewal_at the next billing date or contract
// anniversary at or after the end, for paying accounts. Trials created
// after the end are not written.
package simulate
