// Package cursor encodes the opaque cursors that page the API's and the
// dashboard's listings. A cursor names the last row of a page (its sort
// value and account id, say); the next page starts after it.
//
// A cursor is the unpadded base64url encoding of the value's JSON, so it
// travels in a URL query without escaping and old links keep working as
// long as the value's JSON does. Cursors are not signed: they say where a
// listing resumes, never what a caller may see, so a forged one can only
// page a listing the caller may read anyway.
package cursor
