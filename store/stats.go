package store

import (
	"context"
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/trainer"
)

// Stats summarises what the store holds. Its JSON field names are stable.
type Stats struct {
	Tables []TableStats `json:"tables"`
	// Rows counts the rows of every table.
	Rows int64 `json:"rows"`
	// MinTime and MaxTime span the event tables' times; null when they
	// are empty. Account creation times are left out: they are not
	// events.
	MinTime *time.Time `json:"min_time"`
	MaxTime *time.Time `json:"max_time"`
}

// TableStats summarises one table.
type TableStats struct {
	Table features.Table `json:"table"`
	Rows  int64          `json:"rows"`
	// TimeColumn is the column MinTime and MaxTime range over: the event
	// time, or created_at for accounts.
	TimeColumn string     `json:"time_column"`
	MinTime    *time.Time `json:"min_time"`
	MaxTime    *time.Time `json:"max_time"`
}

// Stats counts the rows of every table and the range of their times.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	return stats(ctx, s.r)
}

func stats(ctx context.Context, q reader) (Stats, error) {
	st := Stats{Tables: make([]TableStats, 0, len(features.Tables))}
	for _, t := range features.Tables {
		ts := TableStats{Table: t, TimeColumn: timeColumn(t)}
		var lo, hi time.Time
		query := fmt.Sprintf("SELECT count(*), min(%s), max(%s) FROM %s", ts.TimeColumn, ts.TimeColumn, t)
		if err := q.QueryRowContext(ctx, query).Scan(&ts.Rows, dbTime{&lo}, dbTime{&hi}); err != nil {
			return Stats{}, fmt.Errorf("counting %s: %w", t, err)
		}
		if ts.Rows > 0 {
			ts.MinTime, ts.MaxTime = &lo, &hi
			if t != features.Accounts {
				if st.MinTime == nil || lo.Before(*st.MinTime) {
					st.MinTime = &lo
				}
				if st.MaxTime == nil || hi.After(*st.MaxTime) {
					st.MaxTime = &hi
				}
			}
		}
		st.Rows += ts.Rows
		st.Tables = append(st.Tables, ts)
	}
	return st, nil
}

// Extent returns the time of the first usage event and the latest time of
// the event tables, for trainer.TrainAndRegister's defaults. The old
// train command read them from Stats; MaxTime is the latest event, not
// account creation.
func (s *Store) Extent(ctx context.Context) (trainer.Extent, error) {
	return extent(ctx, s.r)
}

func extent(ctx context.Context, q reader) (trainer.Extent, error) {
	st, err := stats(ctx, q)
	if err != nil {
		return trainer.Extent{}, err
	}
	var e trainer.Extent
	if st.MaxTime != nil {
		e.Last = *st.MaxTime
	}
	e.FirstUsage = e.Last
	if st.MinTime != nil {
		e.FirstUsage = *st.MinTime
	}
	for _, t := range st.Tables {
		if t.Table == features.UsageEvents && t.MinTime != nil {
			e.FirstUsage = *t.MinTime
		}
	}
	return e, nil
}
