package trainer

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
)

// Labels says, for the rows a task keeps, when each label became known
// and, for simulated data, its true probability. The dataset package
// labels rows but does not say when the label window ends, so the caller,
// who configured the task, supplies it.
type Labels struct {
	// Known returns when the label of h's row observed as of asOf became
	// known; it must not be before asOf.
	Known func(h *features.History, asOf time.Time) time.Time
	// Truth, when not nil, returns a row's true probability, or NaN.
	Truth func(account string, asOf time.Time) float64
	// Early, when not nil, returns the truth as of the row's observation,
	// or NaN: what the simulation's decisions would give on the signals
	// as they stood then, rather than at the later time of the decision.
	// It is about the best a model that reads the records up to the
	// observation can approach, so it bounds the oracle ratio such a
	// model can reach.
	Early func(account string, asOf time.Time) float64
}

// Collect sweeps src with task (dataset.Sweep, the feature engine) and
// gathers the labelled rows into Examples, with features as columns of
// the schema of opts.Features.
func Collect(ctx context.Context, src dataset.Source, task dataset.Task, opts dataset.Options, l Labels) (*Examples, dataset.Stats, error) {
	schema, err := opts.Features.Schema()
	if err != nil {
		return nil, dataset.Stats{}, fmt.Errorf("collecting examples: %w", err)
	}
	e := &Examples{Data: &models.Dataset{Schema: schema, Columns: make([][]float64, len(schema))}}
	if l.Truth != nil {
		e.Truth = []float64{}
	}
	if l.Early != nil {
		e.Early = []float64{}
	}
	stats, err := dataset.Sweep(ctx, src, task, opts, func(b *dataset.Batch) error {
		for k, v := range b.Vectors {
			for j := range schema {
				e.Data.Columns[j] = append(e.Data.Columns[j], v.Values[j])
			}
			e.Data.Labels = append(e.Data.Labels, b.Labels[k])
			e.Accounts = append(e.Accounts, v.AccountID)
			e.AsOf = append(e.AsOf, v.AsOf)
			e.Known = append(e.Known, l.Known(b.History, v.AsOf))
			if l.Truth != nil {
				e.Truth = append(e.Truth, l.Truth(v.AccountID, v.AsOf))
			}
			if l.Early != nil {
				e.Early = append(e.Early, l.Early(v.AccountID, v.AsOf))
			}
		}
		return nil
	})
	if err != nil {
		return nil, stats, fmt.Errorf("collecting examples: %w", err)
	}
	if e.Data.Labels == nil {
		e.Data.Labels = []float64{}
	}
	return e, stats, nil
}

// ChurnLabels returns the Labels of a churn task: a label is known when
// dataset.Churn.Known says, at the end of its window unless a return
// within grace settled it later. With truth, a row's true probability is
// the truth's for a calendar month, which is only the probability of the
// row's label when
// the label window is that month: the truth is used when the window
// starts within alignSlack of a month's start and ends within alignSlack
// of its end (monthly observations on the 1st, lead 0, horizon 30d), and
// is NaN otherwise, so that a misaligned window reports no oracle rather
// than a wrong one. Even then the two differ for accounts billed at the
// turn of a month, a few percent: the label window [T, T+30d) from the
// 1st of a 31-day month misses its 31st, and from the 1st of February it
// reaches March's first billing days, whose decision the label then holds
// while the truth holds February's. Renewal observations with a window up
// to the next renewal use the truth of the month the window starts in,
// the renewal's: the simulator decides churn on billing dates, so that
// window holds exactly that month's decision.
//
// The early truth, the month's truth on the signals as of its first day,
// stands for rows whose truth is a month's and that are observed on the
// month's first day, lead 0.
func ChurnLabels(task *dataset.Churn, truth *Truth) Labels {
	l := Labels{Known: task.Known}
	if truth == nil {
		return l
	}
	// month returns the calendar month whose truth is the row's, if any.
	month := func(asOf time.Time) (time.Time, bool) {
		start := asOf.Add(task.Lead)
		month := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
		gap := start.Add(task.Horizon).Sub(month.AddDate(0, 1, 0))
		// A window from one renewal to the next holds one decision,
		// the renewal's, in the month it starts.
		upToNext := task.Renewals && task.Horizon == 0
		return month, upToNext || start.Sub(month) <= alignSlack && gap <= alignSlack && gap >= -alignSlack
	}
	l.Truth = func(account string, asOf time.Time) float64 {
		if m, ok := month(asOf); ok {
			if p, ok := truth.Churn(account, m); ok {
				return p
			}
		}
		return math.NaN()
	}
	if truth.HasEarly() {
		l.Early = func(account string, asOf time.Time) float64 {
			if m, ok := month(asOf); ok && task.Lead == 0 && asOf.Equal(m) {
				if p, ok := truth.ChurnAtStart(account, m); ok {
					return p
				}
			}
			return math.NaN()
		}
	}
	return l
}

// alignSlack is how far a churn label window may be from a calendar month
// for the month's truth to stand for it: months of 28 to 31 days differ
// from a fixed horizon by up to 3 days.
const alignSlack = 3 * 24 * time.Hour

// ConversionLabels returns the Labels of a conversion task: a label is
// known at the trial's planned end plus grace, counted from the
// observation on trial day task.TrialDay. A trial extended beyond its
// planned length is known later than this says; the dataset drops trials
// whose end plus grace is after the data, not after a cut, so such rows
// may reach training a little early.
func ConversionLabels(task *dataset.Conversion, truth *Truth) Labels {
	days := task.TrialDays
	if days == 0 {
		days = features.DefaultTrialDays
	}
	l := Labels{Known: func(_ *features.History, asOf time.Time) time.Time {
		return asOf.AddDate(0, 0, max(days-task.TrialDay, 0)).Add(task.Grace)
	}}
	if truth != nil {
		l.Truth = func(account string, _ time.Time) float64 {
			if p, ok := truth.Conversion(account); ok {
				return p
			}
			return math.NaN()
		}
	}
	// The early truth is as of trial day 7.
	if truth != nil && truth.HasEarly() && task.TrialDay == simulate.EarlyTrialDay {
		l.Early = func(account string, _ time.Time) float64 {
			if p, ok := truth.ConversionAtWeek(account); ok {
				return p
			}
			return math.NaN()
		}
	}
	return l
}
