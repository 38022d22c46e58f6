// Package today builds the Today view of a rep's book: one ranked list of
// the accounts that need attention now, merged from three sources, with
// how many of each there are:
//
//   - the owner's open and acknowledged alerts;
//   - the biggest health drops since the last batch: the current churn
//     scores whose probability rose by MinRise or more since the
//     account's previous score, the largest rises of expected ARR lost,
//     (p − p_prev) × ARR, first;
//   - renewals in the next RenewalDays days from the latest scores' as-of
//     date, the most expected ARR lost first.
//
// Rank is the ranking rule, stated in its doc comment and, for a person,
// in Rule; Build reads the sources through Store and ranks them, for the
// dashboard's /today page and the API's GET /v1/today alike.
package today
