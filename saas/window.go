package saas

import "time"

// daysPerMonth is the mean length of a month, which turns a window's
// churn into a monthly rate.
const daysPerMonth = 365.25 / 12

// Window is the revenue of the window (Start, End]: an account's MRR at
// an instant is its MRR after every change at or before it.
type Window struct {
	Start, End time.Time
	// MRR at End and StartMRR at Start, in the billing currency per month.
	MRR, StartMRR float64
	// Customers had MRR at End, StartCustomers at Start.
	Customers, StartCustomers int
	// LogoChurnRate is the share of Start's customers with no MRR at End;
	// RevenueChurnRate the MRR they lost (churn and contraction) ÷
	// StartMRR; NRR their MRR at End ÷ StartMRR.
	LogoChurnRate, RevenueChurnRate, NRR float64
	// MonthlyChurnRate is the logo churn per customer-month: the customers
	// lost ÷ (StartCustomers × the window's length in months).
	MonthlyChurnRate float64
	// ARPA is MRR ÷ Customers; LTV is ARPA ÷ MonthlyChurnRate, absent when
	// nothing churned.
	ARPA float64
	LTV  Value
}

// Window returns the revenue figures of (start, end].
func (b *Book) Window(start, end time.Time) Window {
	w := Window{Start: start, End: end}
	var lost, kept float64
	churned := 0
	for _, a := range b.order {
		s, e := a.mrrAt(start), a.mrrAt(end)
		w.MRR += e
		if e > 0 {
			w.Customers++
		}
		if s <= 0 {
			continue
		}
		w.StartCustomers++
		w.StartMRR += s
		kept += e
		if s > e {
			lost += s - e
		}
		if e <= 0 {
			churned++
		}
	}
	if w.StartCustomers > 0 {
		w.LogoChurnRate = float64(churned) / float64(w.StartCustomers)
		if months := end.Sub(start).Hours() / 24 / daysPerMonth; months > 0 {
			w.MonthlyChurnRate = float64(churned) / (float64(w.StartCustomers) * months)
		}
	}
	if w.StartMRR > 0 {
		w.RevenueChurnRate = lost / w.StartMRR
		w.NRR = kept / w.StartMRR
	}
	if w.Customers > 0 {
		w.ARPA = w.MRR / float64(w.Customers)
	}
	w.LTV = Absent("no customer churned in the window")
	if w.MonthlyChurnRate > 0 {
		w.LTV = Known(w.ARPA / w.MonthlyChurnRate)
	}
	return w
}

// mrrAt returns the account's MRR after every step at or before t.
func (a *account) mrrAt(t time.Time) float64 {
	mrr := 0.0
	for i := range a.steps {
		if a.steps[i].at.After(t) {
			break
		}
		mrr = a.steps[i].mrr
	}
	return mrr
}
