package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
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
	Name string
	// Owner is the account owner (features.Account.Owner) whose book the
	// key sees by default, for a rep's key; empty for a key that sees every
	// owner's. It never limits what the key may read: see Scope.
	Owner     string
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key works
}

// Active reports whether the key has not been revoked.
func (k Key) Active() bool { return k.RevokedAt.IsZero() }

// AllOwners is the owner filter's value for every owner's book, which a
// key with an owner gives to see past its own. No key may be owned by it.
const AllOwners = "all"

// ValidOwner reports why owner cannot own a key: it must be an account
// owner id (features.ValidateOwner) other than AllOwners. The empty owner
// is valid: a key without one.
func ValidOwner(owner string) error {
	if owner == AllOwners {
		return fmt.Errorf("owner %q: the owner filter reserves it for every owner's book", owner)
	}
	if err := features.ValidateOwner(owner); err != nil {
		var fe *features.FieldError
		if errors.As(err, &fe) {
			return fmt.Errorf("owner %q: %s", owner, fe.Reason)
		}
		return err
	}
	return nil
}

// Scope returns the owner whose book a listing shows, for a request by k
// whose owner filter is param: the owner param names, every owner ("")
// for AllOwners, and k's own owner (every owner for a key without one)
// when param is empty. A param that is no valid owner id is an error.
func (k Key) Scope(param string) (owner string, err error) {
	switch param {
	case "":
		return k.Owner, nil
	case AllOwners:
		return "", nil
	}
	if err := ValidOwner(param); err != nil {
		return "", err
	}
	return param, nil
}

// secretPrefix starts every secret, so that a leaked key is easy to spot.
const secretPrefix = "churn_"

// NewKey returns a new random secret of the role and the key to store for
// it, created at now (to the microsecond, as the store keeps times),
// without an owner.
func NewKey(role Role, name string, now time.Time) (secret string, k Key, err error) {
	return NewOwnedKey(role, name, "", now)
}

// NewOwnedKey is NewKey for a key whose default book is owner's (see
// Key.Owner); owner must pass ValidOwner.
func NewOwnedKey(role Role, name, owner string, now time.Time) (secret string, k Key, err error) {
	if !role.Valid() {
		return "", k, fmt.Errorf("unknown role %q (want viewer, ingest or admin)", role)
	}
	if err := ValidOwner(owner); err != nil {
		return "", k, err
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
	return secret, Key{ID: "key_" + hex.EncodeToString(id[:]), Role: role, Hash: HashKey(secret), Name: name, Owner: owner,
		CreatedAt: now.UTC().Truncate(time.Microsecond)}, nil
}

// HashKey returns the hex SHA-256 of secret, the form the store keeps.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
