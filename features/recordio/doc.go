// Package recordio reads and writes the canonical records of package
// features as CSV and NDJSON exports.
//
// Decoding applies an optional column mapping (renamed columns, date
// formats, boolean words), validates every record and reports the first bad
// row as file:line: column "name": reason. The same decoder serves file
// ingestion (churnctl ingest) and HTTP bulk ingestion, so both accept and
// refuse exactly the same input.
//
// CSV is read as encoding/csv reads it (RFC 4180: quoted fields may hold
// commas, quotes as "" and line breaks), with the same line numbers and
// errors; lines without quotes, nearly all of an export, are split without
// it, which makes decoding half again as fast.
//
// Columns a table does not have are ignored, so richer exports load as they
// are, unless RefuseUnknown makes them an error; accounts keep columns named
// attr_NAME as free attributes. A CSV header that lacks a required column is
// an error at line 1. NewRowsDecoder reads rows from any other source (a
// SQL view) exactly as a CSV file's, and SkipInvalid lets a caller see
// every bad row rather than the first.
// Times are read as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS with a T or a space,
// an optional fraction and an optional zone (Z, UTC, +HH, +HHMM, +HH:MM),
// in UTC unless they carry an offset, and booleans as true/false, 1/0 or yes/no;
// a Mapping adds formats and words. Usage events without an event_id get a
// deterministic one (DeriveEventID), so re-loading a file is idempotent.
//
// Times are written in RFC 3339 UTC (2024-03-01T09:30:00Z); optional times
// that are not set are written as empty fields.
package recordio
