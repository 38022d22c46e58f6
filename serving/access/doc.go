// Package access holds the API keys of the service and the roles that
// say what each key may do.
//
// A key is a random secret shown once when it is made; the service keeps
// only its hex SHA-256 (Key.Hash), so a stolen store does not yield usable
// keys. Every secret starts with "churn_", so that a leaked one is easy to
// spot in logs and repositories.
//
// The roles are ranked, each allowed what the ones before it are:
//
//	viewer  reads accounts, trials, alerts, features, models and metrics, and
//	        acknowledges and resolves alerts (customer-success and sales reps)
//	ingest  also writes records (loaders and integrations)
//	admin   also activates models and manages keys
//
// The REST API and the dashboard check a key's role with Role.Allows, so
// both grant exactly the same.
//
// A key may name an owner, the rep whose book it is (churnctl keys create
// --owner rep-02). The owner is a default, not a permission: the account,
// trial and alert listings and the Today view show that owner's accounts
// unless the request's owner filter names another owner or AllOwners
// ("all"), and Key.Scope is that rule for the API and the dashboard alike.
package access
