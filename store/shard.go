package store

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard selects one of Count disjoint parts of the accounts, so that a
// scheduler can split a sweep across machines. Index counts from 0, like
// a Kubernetes Indexed Job's completion index. The zero Shard selects every
// account.
type Shard struct {
	Index, Count int
}

// ParseShard parses "i/n" with 0 <= i < n. The empty string is the zero
// Shard.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string {
	if s.Count == 0 {
		return "all"
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Contains reports whether the account belongs to the shard: whether
// ShardHash(accountID) mod Count is Index.
func (s Shard) Contains(accountID string) bool {
	if s.Count <= 1 {
		return true
	}
	return ShardHash(accountID)%uint64(s.Count) == uint64(s.Index)
}

// ShardHash is the stable hash that assigns accounts to shards: 64-bit
// FNV-1a of the account id's bytes. It must never change, or accounts
// would move between shards.
func ShardHash(accountID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(accountID))
	return h.Sum64()
}
