package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// Role names what a key may do.
type Role string

// The roles, from least to most allowed.
const (
	Viewer Role = "viewer"
	Ingest Role = "ingest"
	Admin  Role = "admin"
)

// rank orders the roles; an unknown role ranks 0.
func (r Role) rank() int {
	switch r {
	case Viewer:
		return 1
	case Ingest:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a key of role r may do what needs the role need.
// An unknown role allows nothing and is allowed nothing.
func (r Role) Allows(need Role) bool { return need.Valid() && r.rank() >= need.rank() }

// Key is a stored API key: its secret is never kept, only Hash.
type Key struct {
	ID   string
	Role Role
	// Hash is HashKey of the secret.
	Hash string
	// Name says what the key is for.
	Name      string
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key works
}

// Active reports whether the key has not been revoked.
func (k Key) Active() bool { return k.RevokedAt.IsZero() }

// secretPrefix starts every secret, so that a leaked key is easy to spot.
const secretPrefix = "churn_"

// NewKey returns a new random secret of the role and the key to store for
// it, created at now (to the microsecond, as the store keeps times).
func NewKey(role Role, name string, now time.Time) (secret string, k Key, err error) {
	if !role.Valid() {
		return "", k, fmt.Errorf("unknown role %q (want viewer, ingest or admin)", role)
	}
	var raw [32]byte
	var id [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", k, err
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", k, err
	}
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	return secret, Key{ID: "key_" + hex.EncodeToString(id[:]), Role: role, Hash: HashKey(secret), Name: name,
		CreatedAt: now.UTC().Truncate(time.Microsecond)}, nil
}

// HashKey returns the hex SHA-256 of secret, the form the store keeps.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
