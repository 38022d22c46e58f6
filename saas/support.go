package saas

import "sort"

// SupportMonth is one month's customer-success figures. Times are in
// hours, rates are fractions.
type SupportMonth struct {
	Month         Month          `json:"month"`
	TicketsOpened int            `json:"tickets_opened"`
	ByCategory    map[string]int `json:"tickets_by_category"`
	// Over the tickets first answered (resolved) in the month.
	FirstResponseHoursMean   Value `json:"first_response_hours_mean"`
	FirstResponseHoursMedian Value `json:"first_response_hours_median"`
	ResolutionHoursMean      Value `json:"resolution_hours_mean"`
	ResolutionHoursMedian    Value `json:"resolution_hours_median"`
	// FirstContactResolution is the share of the tickets resolved in the
	// month, among those with agent_replies recorded, that took one reply.
	FirstContactResolution Value `json:"first_contact_resolution"`
	// CSAT is the share of ratings (tickets' and CSAT surveys', 1 to 5)
	// that are 4 or 5; CSATMean their mean.
	CSATRatings int   `json:"csat_ratings"`
	CSAT        Value `json:"csat"`
	CSATMean    Value `json:"csat_mean"`
	// Escalations raised in the month.
	NegativeEscalations int `json:"negative_escalations"`
	PositiveEscalations int `json:"positive_escalations"`
	// ActiveAccounts and ActiveUsers used the product in the month;
	// DAUMAU is the mean daily active users over the month's days ÷
	// ActiveUsers; Adoption the mean over active accounts of features
	// used ÷ the catalogue.
	ActiveAccounts int      `json:"active_accounts"`
	ActiveUsers    int      `json:"active_users"`
	DAUMAU         Value    `json:"dau_mau"`
	Adoption       Value    `json:"adoption"`
	Absent         Absences `json:"absent,omitempty"`
}

// NPSQuarter is one quarter's net promoter score: % promoters (9–10)
// − % detractors (0–6), from −100 to 100.
type NPSQuarter struct {
	Quarter    string   `json:"quarter"`
	Responses  int      `json:"responses"`
	Promoters  int      `json:"promoters"`
	Passives   int      `json:"passives"`
	Detractors int      `json:"detractors"`
	NPS        Value    `json:"nps"`
	Absent     Absences `json:"absent,omitempty"`
}

// Support holds the customer-success figures of a range.
type Support struct {
	Months []SupportMonth `json:"months"`
	// NPS covers every quarter that overlaps the range.
	NPS []NPSQuarter `json:"nps"`
}

// Support returns the customer-success figures of r.
func (b *Book) Support(r Range) (Support, error) {
	if err := r.Validate(); err != nil {
		return Support{}, err
	}
	var out Support
	empty := supportMonth{}
	for m := r.From; m <= r.To; m++ {
		t := b.support.months[m]
		if t == nil {
			t = &empty
		}
		s := SupportMonth{Month: m, TicketsOpened: t.opened, ByCategory: map[string]int{}, CSATRatings: t.ratings,
			NegativeEscalations: t.negative, PositiveEscalations: t.positive}
		for c, n := range t.byCategory {
			s.ByCategory[c] = n
		}
		a := &s.Absent
		s.FirstResponseHoursMean = a.note("first_response_hours_mean", mean(t.responseHours, "no ticket was first answered in the month"))
		s.FirstResponseHoursMedian = a.note("first_response_hours_median", median(t.responseHours, "no ticket was first answered in the month"))
		s.ResolutionHoursMean = a.note("resolution_hours_mean", mean(t.resolutionHours, "no ticket was resolved in the month"))
		s.ResolutionHoursMedian = a.note("resolution_hours_median", median(t.resolutionHours, "no ticket was resolved in the month"))
		s.FirstContactResolution = a.note("first_contact_resolution", ratio(float64(t.firstContact), float64(t.resolvedReplied),
			"no ticket resolved in the month records agent_replies"))
		s.CSAT = a.note("csat", ratio(float64(t.satisfied), float64(t.ratings), "no CSAT rating in the month"))
		s.CSATMean = a.note("csat_mean", ratio(float64(t.ratingSum), float64(t.ratings), "no CSAT rating in the month"))
		u := b.usage.months[m]
		if u == nil {
			u = &UsageMonth{}
		}
		s.ActiveAccounts, s.ActiveUsers = u.Accounts, u.Users
		s.DAUMAU = a.note("dau_mau", ratio(float64(u.UserDays)/float64(m.Days()), float64(u.Users), "no active users in the month"))
		s.Adoption = Absent("no catalogue size is configured")
		if b.opts.CatalogueSize > 0 {
			s.Adoption = ratio(float64(u.Features)/float64(b.opts.CatalogueSize), float64(u.Accounts), "no active accounts in the month")
		}
		a.note("adoption", s.Adoption)
		out.Months = append(out.Months, s)
	}
	seen := map[string]bool{}
	for m := r.From; m <= r.To; m++ {
		q := m.Quarter()
		if seen[q] {
			continue
		}
		seen[q] = true
		t := b.support.quarters[q]
		if t == nil {
			t = &npsTally{}
		}
		n := NPSQuarter{Quarter: q, Promoters: t.promoters, Passives: t.passives, Detractors: t.detractors,
			Responses: t.promoters + t.passives + t.detractors}
		n.NPS = n.Absent.note("nps", ratio(100*float64(t.promoters-t.detractors), float64(n.Responses), "no NPS responses in the quarter"))
		out.NPS = append(out.NPS, n)
	}
	sort.Slice(out.NPS, func(i, j int) bool { return out.NPS[i].Quarter < out.NPS[j].Quarter })
	return out, nil
}
