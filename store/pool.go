package store

// KeepIdleReaders keeps up to n idle connections in the read pool (on
// PostgreSQL, the one pool). database/sql keeps two by default, so a server
// answering many reads at once would otherwise open and close a connection
// per query, which costs a schema load on SQLite and a TCP handshake and
// authentication on PostgreSQL.
func (s *Store) KeepIdleReaders(n int) {
	s.r.SetMaxIdleConns(n)
}
