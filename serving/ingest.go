package serving

import (
	"context"
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/alerts"
)

// IngestStore is what ingestion-time alerts read.
type IngestStore interface {
	NegativeEscalationsSince(ctx context.Context, since time.Time) ([]features.Escalation, error)
	Account(ctx context.Context, id string) (*features.Account, error)
}

// AfterIngest raises the alerts that fire at ingestion time, rather than
// at the next batch, once records of table t have been stored: for
// escalations, every negative escalation within the rules' look-back of
// now. Both the HTTP and the CLI ingestion paths call it after a load
// commits. Alerts already open, or cooling down, are not raised again, so
// calling it twice is harmless. It returns the alerts it opened.
func AfterIngest(ctx context.Context, s IngestStore, eng *alerts.Engine, t features.Table) ([]alerts.Alert, error) {
	lookback := eng.Rules.IngestLookback()
	if t != features.Escalations || lookback == 0 {
		return nil, nil
	}
	now := time.Now()
	if eng.Now != nil {
		now = eng.Now()
	}
	recent, err := s.NegativeEscalationsSince(ctx, now.Add(-lookback))
	if err != nil {
		return nil, err
	}
	var opened []alerts.Alert
	for start := 0; start < len(recent); {
		end := start
		for end < len(recent) && recent[end].AccountID == recent[start].AccountID {
			end++
		}
		h := &features.History{AccountID: recent[start].AccountID, Escalations: recent[start:end]}
		if a, err := s.Account(ctx, h.AccountID); err == nil {
			h.Account = a
		}
		got, err := eng.Raise(ctx, &alerts.Observation{AsOf: now, History: h}, true)
		if err != nil {
			return opened, fmt.Errorf("ingestion alerts: %w", err)
		}
		opened = append(opened, got...)
		start = end
	}
	return opened, nil
}
