// Package api is the REST API of the service, on echo: the handlers, the
// API-key authentication with roles, per-key rate limits, request ids,
// slog access logs, Prometheus metrics and the embedded OpenAPI 3 document
// (openapi.yaml, served at /openapi.yaml), against which the tests validate
// every response.
//
// Every error, including echo's own (unknown route, body too large), is
// answered as
//
//	{"error": {"code": "not_found", "message": "…", "details": …}}
//
// API keys are random 32-byte secrets shown once; the store keeps only
// their SHA-256. A presented key is hashed, looked up among the active
// keys (cached and re-read every few seconds, so revocation takes effect
// within that time) and its hash compared in constant time. Access logs
// name a key by its id, never by the key.
package api
