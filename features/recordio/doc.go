// Package recordio reads and writes the canonical records of package
// features as CSV and NDJSON exports.
//
// Decoding applies an optional column mapping (renamed columns, date
// formats, boolean words), validates every record and reports the first bad
// row as file:line: column "name": reason. The same decoder serves file
// ingestion (churnctl ingest) and HTTP bulk ingestion, so both accept and
// refuse exactly the same input.
//
// Times are written in RFC 3339 UTC (2024-03-01T09:30:00Z); optional times
// that are not set are written as empty fields.
package recordio
