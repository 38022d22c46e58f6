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
package access
