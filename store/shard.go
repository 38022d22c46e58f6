package store

import (
	"database/sql/driver"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// Shard selects one of Count disjoint parts of the accounts, so that a
// scheduler can split a sweep across machines. Index counts from 0, like
// a Kubernetes Indexed Job's completion index. The zero Shard selects every
// account.
//
// Every row of the store carries its account's shard bucket, ShardBucket
// of its account_id (column shard_bucket, migration 0009), and every table
// is indexed by (shard_bucket, account_id). Shard i of n is the i-th of n
// equal ranges of buckets, so a shard's sweep reads one range of each
// index and only its own rows.
type Shard struct {
	Index, Count int
}

// ShardBuckets is the number of shard buckets, and so the largest Count.
const ShardBuckets = 1 << 16

// ParseShard parses "i/n" with 0 <= i < n <= ShardBuckets. The empty
// string is the zero Shard.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n || n > ShardBuckets {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n <= %d, e.g. 0/4", s, ShardBuckets)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string {
	if s.Count == 0 {
		return "all"
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Contains reports whether the account belongs to the shard: whether its
// bucket lies in the shard's range.
func (s Shard) Contains(accountID string) bool {
	lo, hi := s.buckets()
	b := ShardBucket(accountID)
	return lo <= b && b < hi
}

// buckets returns the shard's range of buckets, [lo, hi): bucket b is in
// shard floor(b·Count/ShardBuckets).
func (s Shard) buckets() (lo, hi int) {
	if s.Count <= 1 {
		return 0, ShardBuckets
	}
	ceilDiv := func(a, b int) int { return (a + b - 1) / b }
	return ceilDiv(s.Index*ShardBuckets, s.Count), ceilDiv((s.Index+1)*ShardBuckets, s.Count)
}

// ShardBucket returns the account's shard bucket, in [0, ShardBuckets):
// the top 16 bits of PostgreSQL's hashtext(account_id), offset to be
// non-negative. PostgreSQL computes the same value in SQL, for the
// stored column (see migration 0009), and Citus hashes a text
// distribution column with the same function, so a batch shard is a
// contiguous range of Citus's hash space. It must never change, or
// accounts would move between shards.
func ShardBucket(accountID string) int {
	return int(int32(hashBytes([]byte(accountID)))>>16) + ShardBuckets/2
}

// hashBytes is PostgreSQL's hash_bytes (src/common/hashfn.c), Bob
// Jenkins's lookup3 mix over little-endian words, as hashtext applies it
// to the bytes of a text in a deterministic collation on a little-endian
// server.
func hashBytes(k []byte) uint32 {
	a := 0x9e3779b9 + uint32(len(k)) + 3923095
	b, c := a, a
	for len(k) >= 12 {
		a += le32(k[0:4])
		b += le32(k[4:8])
		c += le32(k[8:12])
		a, b, c = mix(a, b, c)
		k = k[12:]
	}
	// The lowest byte of c is left for the length, which the initial
	// value already holds.
	switch len(k) {
	case 11:
		c += uint32(k[10]) << 24
		fallthrough
	case 10:
		c += uint32(k[9]) << 16
		fallthrough
	case 9:
		c += uint32(k[8]) << 8
		fallthrough
	case 8:
		b += uint32(k[7]) << 24
		fallthrough
	case 7:
		b += uint32(k[6]) << 16
		fallthrough
	case 6:
		b += uint32(k[5]) << 8
		fallthrough
	case 5:
		b += uint32(k[4])
		fallthrough
	case 4:
		a += uint32(k[3]) << 24
		fallthrough
	case 3:
		a += uint32(k[2]) << 16
		fallthrough
	case 2:
		a += uint32(k[1]) << 8
		fallthrough
	case 1:
		a += uint32(k[0])
	}
	return final(a, b, c)
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= bits.RotateLeft32(c, 4)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 6)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 8)
	b += a
	a -= c
	a ^= bits.RotateLeft32(c, 16)
	c += b
	b -= a
	b ^= bits.RotateLeft32(a, 19)
	a += c
	c -= b
	c ^= bits.RotateLeft32(b, 4)
	b += a
	return a, b, c
}

func final(a, b, c uint32) uint32 {
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// SQLite has no hash function of its own: migration 0009 computes its
// shard_bucket columns with this one, which every connection of the
// process's sqlite driver knows.
func init() {
	err := sqlite.RegisterDeterministicScalarFunction("churn_shard_bucket", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch id := args[0].(type) {
			case string:
				return int64(ShardBucket(id)), nil
			case []byte:
				return int64(int32(hashBytes(id))>>16) + ShardBuckets/2, nil
			case nil:
				return nil, nil
			}
			return nil, fmt.Errorf("churn_shard_bucket: account_id is a %T, not text", args[0])
		})
	if err != nil {
		panic(err)
	}
}
