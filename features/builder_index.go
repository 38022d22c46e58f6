package features

import (
	"math/bits"
	"unsafe"
)

// index numbers distinct strings 0, 1, 2, … in order of first sight. It is
// an open-addressing table hashed on the strings' last eight bytes and
// length, which tells apart the identifiers exports use (user ids, feature
// names) and costs a fraction of a general string hash; strings that share
// that suffix still work, only by probing further. The builder looks up
// two strings per usage event, which makes this its hottest path.
//
// Before hashing, get looks the string's memory up in a small direct-mapped
// cache: sources that intern their strings (the store and ReadMemory do)
// hand over the same few user ids and feature names again and again, and
// recognising them by address skips reading their bytes, which for strings
// scattered over the heap is a cache miss each. The cache holds the
// addresses as pointers, so the strings stay alive and an address cannot
// be reused for another string while cached.
type index struct {
	slots  []int32  // position in keys + 1; 0 is empty
	keys   []string // the strings, by number
	shift  uint     // 64 − log2(len(slots)): slots are picked by the hash's top bits
	recent [recentSlots]recentString
}

// recentSlots is the size of the address cache: a few times the strings
// an account uses, so that they seldom evict each other.
const (
	recentBits  = 8
	recentSlots = 1 << recentBits
)

// recentString is a string's address, length and number.
type recentString struct {
	p *byte
	n int
	k int32
}

// reset empties the index, keeping its memory.
func (x *index) reset() {
	clear(x.slots)
	x.keys = x.keys[:0]
	x.recent = [recentSlots]recentString{}
}

// len returns the number of strings numbered.
func (x *index) len() int { return len(x.keys) }

// get returns the number of s, numbering it if it is new, and whether it
// was new.
func (x *index) get(s string) (int32, bool) {
	p := unsafe.StringData(s)
	r := &x.recent[uint64(uintptr(unsafe.Pointer(p)))*0x9e3779b97f4a7c15>>(64-recentBits)]
	if r.p == p && r.n == len(s) && p != nil {
		return r.k, false
	}
	k, isNew := x.lookup(s)
	*r = recentString{p, len(s), k}
	return k, isNew
}

// lookup is get without the address cache.
func (x *index) lookup(s string) (int32, bool) {
	if 2*(len(x.keys)+1) > len(x.slots) {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	for i := suffixHash(s) >> x.shift; ; i = (i + 1) & mask {
		k := x.slots[i]
		if k == 0 {
			x.keys = append(x.keys, s)
			x.slots[i] = int32(len(x.keys))
			return int32(len(x.keys) - 1), true
		}
		if x.keys[k-1] == s {
			return k - 1, false
		}
	}
}

// grow doubles the table (keeping it at most half full) and re-inserts
// the strings.
func (x *index) grow() {
	x.slots = make([]int32, max(16, 2*len(x.slots)))
	x.shift = uint(64 - bits.Len(uint(len(x.slots)-1)))
	mask := uint64(len(x.slots) - 1)
	for n, s := range x.keys {
		i := suffixHash(s) >> x.shift
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = int32(n + 1)
	}
}

// suffixHash mixes the length and last eight bytes of s by Fibonacci
// hashing: only the top bits of the product depend on every input bit, so
// callers take those. The eight bytes are read as one little-endian word,
// which the compiler turns into a single load.
func suffixHash(s string) uint64 {
	n := len(s)
	var h uint64
	if n >= 8 {
		t := s[n-8:]
		h = uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
	} else {
		for i := range n {
			h = h<<8 | uint64(s[i])
		}
	}
	return (h ^ uint64(n)) * 0x9e3779b97f4a7c15
}
