package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Unavailable reports whether err means the store cannot do the work now
// but may shortly: the server is down, restarting, unreachable or out of
// connections, the connection broke, the database is closed, or SQLite's
// file is locked or cannot be read. Callers answer such errors as an
// outage (HTTP 503) rather than as a bug; a retry may succeed.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var (
		netErr  net.Error
		connErr *pgconn.ConnectError
		pgErr   *pgconn.PgError
		liteErr *sqlite.Error
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		return unavailablePG(pgErr.Code)
	case errors.As(err, &liteErr):
		switch liteErr.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY:
			return true
		}
	}
	// database/sql does not export the error of a closed *sql.DB, nor pgx
	// that of a closed connection.
	msg := err.Error()
	return strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "conn closed")
}

// unavailablePG reports whether a PostgreSQL SQLSTATE says the server
// cannot do the work now: connection exceptions (class 08), insufficient
// resources (53: disk full, out of memory, too many connections), an
// operator intervention such as a shutdown or restart (57P01 to 57P05),
// or a transaction that lost a serialization or deadlock race (40001,
// 40P01), which a retry resolves.
func unavailablePG(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"):
		return true
	case code == "40001", code == "40P01":
		return true
	}
	return false
}
