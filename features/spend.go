package features

import "time"

// Spend is what was spent on acquiring customers through one channel in
// one month: a row of the optional spend table, from which CAC is
// computed. It refers to no account.
type Spend struct {
	Month   time.Time // the first instant of the month, UTC
	Channel string    // e.g. ads, events, partners; the accounts' channel attribute values
	Amount  float64   // in the billing currency
	Kind    string    // SpendMarketing or SpendSales
}

// The spend kinds.
const (
	SpendMarketing = "marketing"
	SpendSales     = "sales"
)

// SpendKinds lists the spend kinds.
var SpendKinds = []string{SpendMarketing, SpendSales}

// Validate reports the first invalid field of s, as a *FieldError.
func (s *Spend) Validate() error {
	err := firstError(
		eventTime("month", s.Month, true),
		money("amount", s.Amount),
		oneOf("kind", s.Kind, SpendKinds),
		text("channel", s.Channel),
	)
	if err == nil && (s.Month.Day() != 1 || s.Month.Hour() != 0 || s.Month.Minute() != 0 || s.Month.Second() != 0 || s.Month.Nanosecond() != 0) {
		err = fieldErr("month", "%s is not the start of a month", s.Month.Format(time.RFC3339))
	}
	return err
}
