// Package dashboard is the web dashboard of churnd for customer-success and
// sales reps: server-rendered html/template pages with their stylesheet,
// script and charts embedded in the binary, so that it needs no build step
// and loads nothing from elsewhere.
//
// Mount adds the pages to the API server's router at /:
//
//	/                    Today for a key with an owner, else the accounts list
//	/today               Today (serving/today): open alerts, biggest health drops, renewals in 60 days, ranked by expected ARR lost
//	/accounts            accounts by churn risk or ARR at risk, filtered by owner, band and segment
//	/accounts/ID         one account: health history, components, reasons, tickets, escalations, NPS, usage,
//	                     alerts and the timeline of actions on them
//	/trials              trials by conversion probability, with the PQL badge and days left
//	/alerts              the alerts inbox: by severity × ARR or newest, filtered by status, owner, rules and
//	                     severities, paged by cursor; bulk acknowledge, snooze until a date, resolve with a note
//	/models              the registered models, their HTML reports, and activation (admin only)
//	/portfolio           the metrics page: MRR movements, retention, cohort heat map, trial funnel by channel, ARR at risk
//
// # Sign-in
//
// A rep signs in with an API key, which the dashboard keeps in a cookie
// (HttpOnly, SameSite=Strict, and Secure on TLS) and verifies on every
// request with the API server's own key check, so a revoked key stops
// working here as it does for the API, and the key's role applies: admin
// actions are neither shown to other roles nor accepted from them. Every
// form that changes something carries a token derived from the session
// cookie with a per-process secret (HMAC-SHA256), which a page of another
// site cannot read.
//
// # A rep's book
//
// The accounts, trials, alerts and Today pages show the signed-in key's
// owner's accounts (access.Key.Owner) unless ?owner= names another owner
// or "all", with a line above the filters that says whose book it is and
// links to the other view; a key without an owner sees every owner's.
//
// # Cost
//
// Listings read one page of current scores through an index (by
// probability or by revenue at risk), with their sparklines in one query;
// an account page reads one account's history. Today reads the owner's
// alerts, the drops past their threshold from one index, and the renewals
// by ARR at risk, with their counts; the renewal count reads every scored
// customer of the book renewing in the window. The portfolio sweeps the
// billing changes and is therefore cached for a minute.
package dashboard
