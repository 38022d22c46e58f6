// Package load states the contract of loading canonical records into a
// store: a Source of records, the Options of one load and the Result that
// counts what it stored, refused or found suspect. The store implements the
// loading; the CLI, the HTTP API and SQL transforms read and write these
// types, so that the store's schema never reaches their signatures.
package load
