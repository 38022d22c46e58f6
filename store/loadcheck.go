package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
)

// Rewinder is a load.Source that can start again from its first record. A load
// whose rows repeat a key reads its source twice: the first pass finds the
// repeats, the second stores each key once. A load.Source that cannot rewind
// still loads, unless its rows repeat a key.
type Rewinder interface {
	Rewind() error
}

// Locator is a load.Source that can say where its last record came from, so
// that messages about rows found wrong only in the light of other rows
// (a repeated key, an orphan) name their places as decoding errors do.
type Locator interface {
	// Line identifies the last record returned: a line, or a row number.
	Line() int
	// Errorf returns err as the error of the record at line, in the form
	// of the source's own errors ("usage.csv:12: …").
	Errorf(line int, err error) error
}

// keyHash identifies a key within one load: 128 bits of two seeded hashes,
// so that two keys collide with a probability below 2⁻⁶⁰ even in a load
// of billions of rows, while the index holds 24 bytes a row, not the key.
type keyHash [2]uint64

// occurrence is where a key was first (or, under LastWins, last) seen.
type occurrence struct {
	ord  uint32 // ordinal of the record in the source
	line uint32
}

// merge accumulates the identical id-less usage events that become one row.
type merge struct {
	count     int
	durationS float64
	errors    int
}

// replay is what a first pass found: the records to leave out, and the
// id-less usage events that stand for several identical ones.
type replay struct {
	skip   map[uint32]bool
	merged map[uint32]*merge
}

// accountRows counts the rows of one account in a load, for orphans, and
// spans the times of its usage events, for the usage rollup.
type accountRows struct {
	rows        int64
	line        int
	first, last time.Time // of its usage events; zero for other tables
}

// checkedSource wraps a load's source: it refuses or supersedes repeated
// keys, merges identical id-less usage events, and counts the rows of
// each account. It runs on the decoding goroutine of streamRows.
type checkedSource struct {
	src   load.Source
	table features.Table
	opts  load.Options
	loc   Locator // nil when src cannot say where its records are
	key   []int   // positions of the key columns among fieldsOf's fields
	seeds [2]maphash.Seed

	ord      uint32
	seen     map[keyHash]occurrence
	found    replay  // first pass: what a second pass must do
	plan     *replay // second pass: what the first found
	repeats  bool    // the first pass found repeats; the rest of it only looks
	accounts map[string]*accountRows

	merged, superseded int64
	invalid            load.Invalid // under CollectInvalid
}

func newCheckedSource(src load.Source, t features.Table, opts load.Options) *checkedSource {
	c := &checkedSource{
		src:      src,
		table:    t,
		opts:     opts,
		seeds:    [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		seen:     make(map[keyHash]occurrence),
		found:    replay{skip: map[uint32]bool{}, merged: map[uint32]*merge{}},
		accounts: make(map[string]*accountRows),
	}
	c.loc, _ = src.(Locator)
	cols := t.Columns()
	for _, k := range keyColumns(t) {
		for i, col := range cols {
			if col == k {
				c.key = append(c.key, i)
			}
		}
	}
	return c
}

// needsReplay reports whether the pass just ended found repeated keys, so
// that its rows must be stored again from a second pass.
func (c *checkedSource) needsReplay() bool { return c.plan == nil && c.repeats }

// rewind prepares the second pass.
func (c *checkedSource) rewind() error {
	rw, ok := c.src.(Rewinder)
	if !ok {
		return errors.New("its rows repeat a key, and its source cannot be read a second time to store each key once")
	}
	if err := rw.Rewind(); err != nil {
		return err
	}
	c.plan, c.ord, c.seen = &c.found, 0, nil
	clear(c.accounts)
	c.invalid = load.Invalid{}
	return nil
}

func (c *checkedSource) line() int {
	if c.loc == nil {
		return int(c.ord)
	}
	return c.loc.Line()
}

func (c *checkedSource) errorf(line int, err error) error {
	if c.loc == nil {
		return fmt.Errorf("%s: row %d: %w", c.table, line, err)
	}
	return c.loc.Errorf(line, err)
}

// Next returns the next record to store.
func (c *checkedSource) Next() (recordio.Record, error) {
	for {
		rec, err := c.src.Next()
		var row interface{ RowOnly() bool }
		if err != nil && c.opts.CollectInvalid && errors.As(err, &row) && row.RowOnly() {
			c.invalid.Add(err)
			continue
		}
		if err != nil {
			return nil, err
		}
		ord := c.ord
		c.ord++
		if c.plan != nil {
			if c.plan.skip[ord] {
				continue
			}
			if m := c.plan.merged[ord]; m != nil {
				e := rec.(*features.UsageEvent)
				e.Count, e.DurationS, e.Errors = m.count, m.durationS, m.errors
			}
			c.countAccount(rec)
			return rec, nil
		}
		if err := c.track(rec, ord); err != nil {
			return nil, err
		}
		if !c.repeats {
			c.countAccount(rec)
			return rec, nil
		}
		// The rows must be stored again by a second pass: this one only
		// reads on, to find every repeat, and stores nothing more.
	}
}

// track records rec's key and handles a repeat of it.
func (c *checkedSource) track(rec recordio.Record, ord uint32) error {
	h := c.hash(rec)
	line := c.line()
	prev, repeated := c.seen[h]
	if !repeated {
		c.seen[h] = occurrence{ord: ord, line: uint32(line)}
		return nil
	}
	c.repeats = true
	if e, ok := rec.(*features.UsageEvent); ok && e.EventID == recordio.DeriveEventID(e) {
		// Identical id-less events: one row, counting all of them.
		m := c.found.merged[prev.ord]
		if m == nil {
			m = &merge{count: e.Count, durationS: e.DurationS, errors: e.Errors}
			c.found.merged[prev.ord] = m
		}
		m.count += e.Count
		m.durationS += e.DurationS
		m.errors += e.Errors
		if m.count > math.MaxInt32 {
			return c.errorf(line, &features.FieldError{Field: "count", Reason: "identical events add up to more than 2147483647"})
		}
		c.found.skip[ord] = true
		c.merged++
		return nil
	}
	if !c.opts.LastWins {
		return c.errorf(line, fmt.Errorf("key %s was already given at line %d; a key may appear once in a load (or load with last-wins to keep the last row)",
			c.describeKey(rec), prev.line))
	}
	c.found.skip[prev.ord] = true
	c.seen[h] = occurrence{ord: ord, line: uint32(line)}
	c.superseded++
	return nil
}

func (c *checkedSource) hash(rec recordio.Record) keyHash {
	var buf [16]any
	fields, _ := fieldsOf(buf[:0], rec)
	var h keyHash
	for s := range h {
		var m maphash.Hash
		m.SetSeed(c.seeds[s])
		for _, i := range c.key {
			switch f := fields[i].(type) {
			case *string:
				m.WriteString(*f)
			case *time.Time:
				var b [16]byte
				m.Write(strconv.AppendInt(b[:0], f.UnixMicro(), 36)) // as stored: to the microsecond
			}
			m.WriteByte(0)
		}
		h[s] = m.Sum64()
	}
	return h
}

// describeKey names rec's key columns and values: account_id "a", event_id "e1".
func (c *checkedSource) describeKey(rec recordio.Record) string {
	var buf [16]any
	fields, _ := fieldsOf(buf[:0], rec)
	cols := c.table.Columns()
	var parts []string
	for _, i := range c.key {
		var v string
		switch f := fields[i].(type) {
		case *string:
			v = strconv.Quote(*f)
		case *time.Time:
			v = f.UTC().Format(time.RFC3339Nano)
		}
		parts = append(parts, cols[i]+" "+v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (c *checkedSource) countAccount(rec recordio.Record) {
	switch r := rec.(type) {
	case *features.Account:
		if r.CreatedAt.IsZero() {
			r.CreatedAt = noStart // until inferStarts gives it one
		}
		return
	case *features.Spend:
		return // spend is by channel, of no account
	}
	var buf [16]any
	fields, _ := fieldsOf(buf[:0], rec)
	id := *fields[1].(*string) // account_id follows the key in every table but accounts
	a := c.accounts[id]
	if a == nil {
		a = &accountRows{line: c.line()}
		c.accounts[id] = a
	}
	a.rows++
	if e, ok := rec.(*features.UsageEvent); ok {
		if a.first.IsZero() || e.At.Before(a.first) {
			a.first = e.At
		}
		if e.At.After(a.last) {
			a.last = e.At
		}
	}
}

// orphans finds the accounts of the load that q's accounts table lacks.
// Under Strict the first of them, in load order, refuses the load.
func (c *checkedSource) orphans(ctx context.Context, q sqlx.QueryerContext, bind func(string) string) (load.Orphans, error) {
	var o load.Orphans
	if len(c.accounts) == 0 {
		return o, nil
	}
	ids := make([]string, 0, len(c.accounts))
	for id := range c.accounts {
		ids = append(ids, id)
	}
	known := make(map[string]bool, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		query, args, err := sqlx.In("SELECT account_id FROM accounts WHERE account_id IN (?)", part)
		if err != nil {
			return o, err
		}
		var found []string
		if err := sqlx.SelectContext(ctx, q, &found, bind(query), args...); err != nil {
			return o, fmt.Errorf("looking up accounts: %w", err)
		}
		for _, id := range found {
			known[id] = true
		}
	}
	var first string
	for id, a := range c.accounts {
		if known[id] {
			continue
		}
		o.Rows += a.rows
		o.Accounts++
		if first == "" || a.line < c.accounts[first].line {
			first = id
		}
	}
	o.First = first
	if c.opts.Strict && first != "" {
		return o, c.errorf(c.accounts[first].line, &features.FieldError{Field: "account_id",
			Reason: fmt.Sprintf("no accounts row has %q (%d rows for %d unknown accounts; without strict they load as orphans)", first, o.Rows, o.Accounts)})
	}
	return o, nil
}
