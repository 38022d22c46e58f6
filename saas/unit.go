package saas

import "slices"

// UnitMonth is one period's unit economics. Money is in the billing
// currency; ARPA and MRR per month, LTV and CAC per customer, payback in
// months.
type UnitMonth struct {
	// Month is the month, or absent (null) for a range's total.
	Month *Month `json:"month"`
	// ARPA is end MRR ÷ customers at the end (for a range: Σ end MRR ÷ Σ
	// customers over its months); ARPANew is new MRR ÷ new customers;
	// ARPAExisting is the end MRR of the customers of the month's start
	// who stayed, ÷ their number.
	ARPA         Value `json:"arpa"`
	ARPANew      Value `json:"arpa_new"`
	ARPAExisting Value `json:"arpa_existing"`
	// ChurnRate is the monthly logo churn rate: customers lost ÷
	// customers at the start (for a range: Σ lost ÷ Σ at the start, a
	// rate per customer-month).
	ChurnRate Value `json:"churn_rate"`
	// LTV is ARPA ÷ ChurnRate; LTVGrossMargin is LTV × gross margin,
	// absent without a configured margin.
	LTV            Value `json:"ltv"`
	LTVGrossMargin Value `json:"ltv_gross_margin"`
	// Spend is the sales and marketing spend; CAC is Spend ÷
	// NewCustomers. Payback is CAC ÷ (ARPANew × gross margin, or 1 without
	// one); LTVToCAC is LTVGrossMargin (LTV without a margin) ÷ CAC.
	NewCustomers   int      `json:"new_customers"`
	MarketingSpend Value    `json:"marketing_spend"`
	SalesSpend     Value    `json:"sales_spend"`
	Spend          Value    `json:"spend"`
	CAC            Value    `json:"cac"`
	PaybackMonths  Value    `json:"payback_months"`
	LTVToCAC       Value    `json:"ltv_to_cac"`
	MarginAdjusted bool     `json:"margin_adjusted"`
	Absent         Absences `json:"absent,omitempty"`
}

// UnitEconomics holds the unit economics of every month of a range and of
// the range as a whole.
type UnitEconomics struct {
	Months []UnitMonth `json:"months"`
	Total  UnitMonth   `json:"total"`
	// ByChannel is the acquisition cost of the range per channel that
	// had spend or new customers.
	ByChannel []ChannelCAC `json:"by_channel"`
}

// ChannelCAC is one channel's acquisition cost over a range: its spend
// ÷ the customers whose first subscription came through it.
type ChannelCAC struct {
	Channel      string   `json:"channel"`
	Spend        Value    `json:"spend"`
	NewCustomers int      `json:"new_customers"`
	CAC          Value    `json:"cac"`
	Absent       Absences `json:"absent,omitempty"`
}

// unitTally is what a period's unit economics are computed from.
type unitTally struct {
	endMRR, newMRR, existingMRR              float64
	customers, newLogos, start, kept, spends int
	marketing, sales                         float64
}

// UnitEconomics returns the unit economics of r.
func (b *Book) UnitEconomics(r Range) (UnitEconomics, error) {
	if err := r.Validate(); err != nil {
		return UnitEconomics{}, err
	}
	rv := b.revenueOf(r)
	var (
		out   = UnitEconomics{Months: make([]UnitMonth, len(rv.months))}
		total unitTally
	)
	for i, t := range rv.months {
		m := r.From + Month(i)
		u := unitTally{endMRR: t.endMRR, newMRR: t.newMRR, existingMRR: t.retainedMRR, customers: t.customers,
			newLogos: t.newLogos, start: t.startCustomers, kept: t.retainedLogos}
		if s := b.spend[m]; s != nil {
			u.spends, u.marketing, u.sales = 1, s.marketing, s.sales
		}
		out.Months[i] = b.unit(u)
		out.Months[i].Month = &m
		total.endMRR += u.endMRR
		total.newMRR += u.newMRR
		total.existingMRR += u.existingMRR
		total.customers += u.customers
		total.newLogos += u.newLogos
		total.start += u.start
		total.kept += u.kept
		total.spends += u.spends
		total.marketing += u.marketing
		total.sales += u.sales
	}
	out.Total = b.unit(total)
	out.ByChannel = b.channelCAC(r, rv.newByChannel)
	return out, nil
}

// channelCAC sums the spend of r by channel against the new customers.
func (b *Book) channelCAC(r Range, newCustomers map[string]int) []ChannelCAC {
	spend := map[string]float64{}
	for m := r.From; m <= r.To; m++ {
		if t := b.spend[m]; t != nil {
			for c, v := range t.byChannel {
				spend[c] += v
			}
		}
	}
	names := make([]string, 0, len(spend)+len(newCustomers))
	for c := range spend {
		names = append(names, c)
	}
	for c := range newCustomers {
		if _, ok := spend[c]; !ok {
			names = append(names, c)
		}
	}
	slices.Sort(names)
	out := make([]ChannelCAC, 0, len(names))
	for _, c := range names {
		cc := ChannelCAC{Channel: c, NewCustomers: newCustomers[c], Spend: Absent("no spend is recorded for the channel")}
		cc.CAC = cc.Spend
		if v, ok := spend[c]; ok {
			cc.Spend = Known(v)
			cc.CAC = ratio(v, float64(cc.NewCustomers), "no new customers came through the channel")
		}
		cc.Absent.note("spend", cc.Spend)
		cc.Absent.note("cac", cc.CAC)
		out = append(out, cc)
	}
	return out
}

func (b *Book) unit(t unitTally) UnitMonth {
	u := UnitMonth{NewCustomers: t.newLogos, MarginAdjusted: b.opts.GrossMargin > 0}
	a := &u.Absent
	u.ARPA = a.note("arpa", ratio(t.endMRR, float64(t.customers), "no customers at the end"))
	u.ARPANew = a.note("arpa_new", ratio(t.newMRR, float64(t.newLogos), "no new customers"))
	u.ARPAExisting = a.note("arpa_existing", ratio(t.existingMRR, float64(t.kept), "no customer stayed from the start"))
	u.ChurnRate = a.note("churn_rate", ratio(float64(t.start-t.kept), float64(t.start), noCustomers))
	u.LTV = Absent("no customer churned, so the expected lifetime is unbounded")
	if churn, ok := u.ChurnRate.Float(); !ok {
		u.LTV = u.ChurnRate
	} else if arpa, ok := u.ARPA.Float(); churn > 0 && ok {
		u.LTV = Known(arpa / churn)
	} else if !ok {
		u.LTV = u.ARPA
	}
	a.note("ltv", u.LTV)
	u.LTVGrossMargin = Absent("no gross margin is configured")
	if ltv, ok := u.LTV.Float(); !ok {
		u.LTVGrossMargin = u.LTV
	} else if b.opts.GrossMargin > 0 {
		u.LTVGrossMargin = Known(ltv * b.opts.GrossMargin)
	}
	a.note("ltv_gross_margin", u.LTVGrossMargin)
	noSpend := Absent("no spend is recorded for the period")
	u.MarketingSpend, u.SalesSpend, u.Spend, u.CAC = noSpend, noSpend, noSpend, noSpend
	if t.spends > 0 {
		u.MarketingSpend, u.SalesSpend, u.Spend = Known(t.marketing), Known(t.sales), Known(t.marketing+t.sales)
		u.CAC = ratio(t.marketing+t.sales, float64(t.newLogos), "no new customers")
	}
	a.note("marketing_spend", u.MarketingSpend)
	a.note("sales_spend", u.SalesSpend)
	a.note("spend", u.Spend)
	a.note("cac", u.CAC)
	margin := 1.0
	if b.opts.GrossMargin > 0 {
		margin = b.opts.GrossMargin
	}
	u.PaybackMonths, u.LTVToCAC = u.CAC, u.CAC
	if cac, ok := u.CAC.Float(); ok {
		u.PaybackMonths = u.ARPANew
		if arpa, ok := u.ARPANew.Float(); ok {
			u.PaybackMonths = ratio(cac, arpa*margin, "new customers brought no MRR")
		}
		ltv := u.LTVGrossMargin
		if b.opts.GrossMargin == 0 {
			ltv = u.LTV
		}
		u.LTVToCAC = ltv
		if v, ok := ltv.Float(); ok {
			u.LTVToCAC = ratio(v, cac, "acquisition cost nothing")
		}
	}
	a.note("payback_months", u.PaybackMonths)
	a.note("ltv_to_cac", u.LTVToCAC)
	return u
}
