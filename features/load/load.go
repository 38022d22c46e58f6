package load

import (
	"errors"
	"regexp"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// Source yields the records of one load, then io.EOF. Records must be
// valid: *recordio.Decoder validates each before returning it.
type Source interface {
	Next() (recordio.Record, error)
}

// Result counts what a load did. Read = Inserted + Updated + Unchanged
// + Merged + Superseded.
type Result struct {
	Table     features.Table `json:"table"`
	Read      int64          `json:"read"`      // records the source yielded
	Inserted  int64          `json:"inserted"`  // new keys
	Updated   int64          `json:"updated"`   // stored keys whose fields changed
	Unchanged int64          `json:"unchanged"` // stored keys sent again as they were
	// Merged counts id-less usage events identical to an earlier one of
	// the load (same account, user, feature, time and values): they are
	// stored as that one row, whose count is the sum of theirs.
	Merged int64 `json:"merged,omitempty"`
	// Superseded counts rows whose key a later row of the load gave again,
	// under Options.LastWins.
	Superseded int64 `json:"superseded,omitempty"`
	// Orphans counts the rows, loaded, for accounts that no accounts row
	// knows.
	Orphans Orphans `json:"orphans"`
	// StartsInferred counts the accounts loaded without created_at, which
	// start at their earliest record (see the store's documentation).
	StartsInferred int64 `json:"starts_inferred,omitempty"`
	// Invalid counts, under Options.CollectInvalid, the rows with bad
	// values that refused the load; they are not in Read.
	Invalid *Invalid `json:"invalid,omitempty"`
}

// Options say how a load treats rows that are not invalid in
// themselves but suspect within the load or against the store.
type Options struct {
	// LastWins keeps the last of the rows that give one key within a load
	// and counts the others as Superseded. Without it such a load is
	// refused, naming both rows and the key: a repeated key is most often
	// two exports concatenated or a join that fans out.
	LastWins bool
	// Strict refuses a load holding rows for accounts that no accounts row
	// knows, which are otherwise loaded and counted as orphans.
	Strict bool
	// CollectInvalid reads on after a row with bad values (when the
	// source can: see recordio.Decoder.SkipInvalid), to refuse the load
	// with every bad row counted by kind in Result.Invalid rather than
	// at the first. Dry runs use it.
	CollectInvalid bool
}

// Invalid counts a load's rows with bad values, by kind.
type Invalid struct {
	Rows  int64         `json:"rows"`
	Kinds []InvalidKind `json:"kinds"`
}

// InvalidKind is one kind of bad value: one column and one reason, the
// values in it elided.
type InvalidKind struct {
	Column   string   `json:"column,omitempty"`
	Reason   string   `json:"reason"`
	Rows     int64    `json:"rows"`
	Examples []string `json:"examples"` // the first few errors in full
}

// maxInvalidExamples bounds the examples of each kind.
const maxInvalidExamples = 3

// quoted matches the quoted values in a reason, which differ between rows
// of one kind.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// Add counts err, a bad row, under its kind: its column and its reason
// with the quoted values elided.
func (inv *Invalid) Add(err error) {
	inv.Rows++
	var column, reason string
	var fe *features.FieldError
	if errors.As(err, &fe) {
		column, reason = fe.Field, quoted.ReplaceAllString(fe.Reason, `"…"`)
	} else {
		reason = err.Error()
	}
	for i := range inv.Kinds {
		k := &inv.Kinds[i]
		if k.Column == column && k.Reason == reason {
			k.Rows++
			if len(k.Examples) < maxInvalidExamples {
				k.Examples = append(k.Examples, err.Error())
			}
			return
		}
	}
	inv.Kinds = append(inv.Kinds, InvalidKind{Column: column, Reason: reason, Rows: 1, Examples: []string{err.Error()}})
}

// Orphans counts rows for accounts that no accounts row knows.
type Orphans struct {
	Rows     int64  `json:"rows"`
	Accounts int64  `json:"accounts"`
	First    string `json:"first,omitempty"` // the first unknown account in load order
}
