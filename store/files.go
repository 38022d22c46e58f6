package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
)

// ErrNotExport marks a named file whose table or format cannot be told from
// its name. It is the caller's mistake, not the data's.
var ErrNotExport = errors.New("not an export file")

// ExportFile is one export to load: a file of one table in one format.
type ExportFile struct {
	Path   string
	Table  features.Table
	Format recordio.Format
}

// ExportFiles expands folders into the export files they hold (.csv,
// .ndjson, .jsonl; other files in a folder, such as READMEs and mappings,
// are passed over) and orders every file by table load order, accounts
// first, keeping the given order within a table. The table of each file is
// table when it is not empty, else taken from the file's name. A file named
// explicitly whose table or format cannot be told yields an error wrapping
// ErrNotExport, and no files.
func ExportFiles(paths []string, table features.Table) ([]ExportFile, error) {
	var files []ExportFile
	add := func(path string) error {
		format, err := recordio.FormatOf(path)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotExport, err)
		}
		t := table
		if t == "" {
			if t, err = recordio.TableOf(path); err != nil {
				return fmt.Errorf("%w: %v (name the table explicitly)", ErrNotExport, err)
			}
		}
		files = append(files, ExportFile{Path: path, Table: t, Format: format})
		return nil
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if err := add(p); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if _, ferr := recordio.FormatOf(path); ferr != nil {
				return nil
			}
			return add(path)
		})
		if err != nil {
			return nil, fmt.Errorf("reading folder %s: %w", p, err)
		}
	}
	slices.SortStableFunc(files, func(a, b ExportFile) int {
		return slices.Index(features.Tables, a.Table) - slices.Index(features.Tables, b.Table)
	})
	return files, nil
}

// FileResult is what LoadFile did with one file.
type FileResult struct {
	load.Result
	// Ignored lists the file's columns that match no canonical column,
	// which loaded nothing.
	Ignored []string `json:"ignored,omitempty"`
}

// LoadFile loads one export file with l (a *Store, or a dry run's loader)
// in one transaction, applying the mapping m
// (nil for canonical exports): either every record of the file is stored or,
// on any error, none is. Under opts.Strict a column the table does not have
// refuses the file, as orphans do (see LoadWith).
func LoadFile(ctx context.Context, l Loader, f ExportFile, m *recordio.Mapping, opts load.Options) (FileResult, error) {
	in, err := os.Open(f.Path)
	if err != nil {
		return FileResult{}, err
	}
	defer in.Close()
	d, err := recordio.NewDecoder(in, f.Path, f.Table, f.Format, m)
	if err != nil {
		return FileResult{}, err
	}
	if opts.Strict {
		d.RefuseUnknown()
	}
	if opts.CollectInvalid {
		d.SkipInvalid()
	}
	res, err := l.LoadWith(ctx, f.Table, d, opts)
	if err != nil {
		return FileResult{Result: res}, err
	}
	return FileResult{Result: res, Ignored: d.Ignored()}, nil
}
