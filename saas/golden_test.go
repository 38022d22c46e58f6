package saas

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

// The golden history. Every figure the tests expect is derived by hand in
// the comments from these records; the range measured is January to
// March 2025. The grace period is the default 14 days, the gross margin
// 0.8, the catalogue 10 features, and "reports" is the key feature.
//
//	A  monthly; new 2024-11-01 at 100; upgraded mid-month 2025-01-15 to 150
//	   and 2025-02-10 to 200.
//	B  monthly; new 2024-12-05 at 200; downgraded 2025-01-20 to 120.
//	C  monthly; new 2024-10-01 at 80; churned 2025-01-31, back 2025-02-07
//	   at 90: within grace, so no churn, an expansion of 10 on 02-07.
//	D  monthly; new 2024-12-01 at 50; churned 2025-01-10, back 2025-03-03
//	   at 60: outside grace, a churn of 50 and a reactivation of 60.
//	E  annual (pro-annual, 1,200 a year: MRR 100); new 2024-02-10; renews
//	   in 2025-02 without a change.
//	F  annual (pro-annual, MRR 50); new 2024-03-15; churned at its
//	   anniversary 2025-03-15.
//	G  trial 2025-01-05 to 01-19 (channel ads); used "reports" on 01-08;
//	   flagged PQL 01-12; converted 2025-01-17 at 40 (12 days).
//	H  trial 2025-01-20 to 02-03 (channel organic); used only "login";
//	   lapsed.
//	J  no trial (channel partner); new 2025-01-25 at 30; churned 02-20.
//
// MRR at each month's start (S1 = Jan 1, S2 = Feb 1, S3 = Mar 1, S4 =
// Apr 1):
//
//	     A    B    C   D    E   F   G   J   total
//	S1  100  200  80  50  100  50   0   0   580
//	S2  150  120  80   0  100  50  40  30   570
//	S3  200  120  90   0  100  50  40   0   600
//	S4  200  120  90  60  100   0  40   0   610
func golden(t *testing.T) *Book { t.Helper(); return goldenBook(t, false) }

// goldenBook is the golden history; rolled gives the Book its usage as
// the store does, rolled up by month (AddUsageMonth), and the trials' use
// of the key feature (AddTrialKeyUse: G used "reports" on 01-08 at 9:00
// and 10:00, H never), rather than the events.
func goldenBook(t *testing.T, rolled bool) *Book {
	t.Helper()
	b, err := NewBook(Options{GrossMargin: 0.8, KeyFeatures: []string{"reports"}, CatalogueSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	attrs := func(ch string) map[string]string { return map[string]string{"channel": ch} }
	for _, a := range []features.Account{
		{AccountID: "A", CreatedAt: at(2024, 11, 1, 0)},
		{AccountID: "B", CreatedAt: at(2024, 12, 5, 0)},
		{AccountID: "C", CreatedAt: at(2024, 10, 1, 0)},
		{AccountID: "D", CreatedAt: at(2024, 12, 1, 0)},
		{AccountID: "E", CreatedAt: at(2024, 2, 10, 0)},
		{AccountID: "F", CreatedAt: at(2024, 3, 15, 0)},
		{AccountID: "G", CreatedAt: at(2025, 1, 5, 0), TrialStartedAt: at(2025, 1, 5, 0), TrialEndsAt: at(2025, 1, 19, 0),
			ConvertedAt: at(2025, 1, 17, 0), Attributes: attrs("ads")},
		{AccountID: "H", CreatedAt: at(2025, 1, 20, 0), TrialStartedAt: at(2025, 1, 20, 0), TrialEndsAt: at(2025, 2, 3, 0),
			Attributes: attrs("organic")},
		{AccountID: "J", CreatedAt: at(2025, 1, 25, 0), Attributes: attrs("partner")},
	} {
		must(t, b.AddAccount(&a))
	}
	bc := func(acct string, when time.Time, mrr float64, plan, kind string) features.BillingChange {
		return features.BillingChange{ChangeID: acct + when.Format("060102"), AccountID: acct, At: when, MRR: mrr, Plan: plan, Kind: kind}
	}
	for _, c := range []features.BillingChange{
		bc("A", at(2024, 11, 1, 0), 100, "team-monthly", "new"),
		bc("A", at(2025, 1, 15, 0), 150, "team-monthly", "expansion"),
		bc("A", at(2025, 2, 10, 0), 200, "team-monthly", "expansion"),
		bc("B", at(2024, 12, 5, 0), 200, "team-monthly", "new"),
		bc("B", at(2025, 1, 20, 0), 120, "team-monthly", "contraction"),
		bc("C", at(2024, 10, 1, 0), 80, "team-monthly", "new"),
		bc("C", at(2025, 1, 31, 0), 0, "team-monthly", "churn"),
		bc("C", at(2025, 2, 7, 0), 90, "team-monthly", "reactivation"),
		bc("D", at(2024, 12, 1, 0), 50, "team-monthly", "new"),
		bc("D", at(2025, 1, 10, 0), 0, "team-monthly", "churn"),
		bc("D", at(2025, 3, 3, 0), 60, "team-monthly", "reactivation"),
		bc("E", at(2024, 2, 10, 0), 100, "pro-annual", "new"),
		bc("F", at(2024, 3, 15, 0), 50, "pro-annual", "new"),
		bc("F", at(2025, 3, 15, 0), 0, "pro-annual", "churn"),
		bc("G", at(2025, 1, 17, 0), 40, "team-monthly", "new"),
		bc("J", at(2025, 1, 25, 0), 30, "team-monthly", "new"),
		bc("J", at(2025, 2, 20, 0), 0, "team-monthly", "churn"),
	} {
		must(t, b.AddBillingChange(&c))
	}
	ev := func(acct, user, feature string, when time.Time) features.UsageEvent {
		return features.UsageEvent{AccountID: acct, UserID: user, Feature: feature, At: when, Count: 1}
	}
	events := []features.UsageEvent{
		ev("A", "u1", "reports", at(2025, 1, 3, 10)),
		ev("A", "u2", "reports", at(2025, 1, 3, 11)),
		ev("A", "u1", "login", at(2025, 1, 4, 9)),
		ev("A", "u1", "export", at(2025, 2, 10, 9)),
		ev("G", "g1", "login", at(2025, 1, 6, 9)),
		ev("G", "g1", "reports", at(2025, 1, 8, 9)),
		ev("G", "g2", "reports", at(2025, 1, 8, 10)),
		ev("H", "h1", "login", at(2025, 1, 21, 10)),
		ev("H", "h1", "login", at(2025, 1, 22, 10)),
	}
	if rolled {
		r := NewUsageRollup(func(_ string, u UsageMonth) { b.AddUsageMonth(u) })
		for _, e := range events {
			must(t, r.Add(&e))
		}
		r.Flush()
		b.AddTrialKeyUse("G", at(2025, 1, 8, 9), at(2025, 1, 8, 10))
	} else {
		for _, e := range events {
			must(t, b.AddUsageEvent(&e))
		}
	}
	for _, tk := range []features.Ticket{
		{TicketID: "T1", AccountID: "A", OpenedAt: at(2025, 1, 10, 9), FirstResponseAt: at(2025, 1, 10, 11),
			ResolvedAt: at(2025, 1, 11, 9), Priority: "normal", Category: "bug", CSAT: 5, AgentReplies: 1},
		{TicketID: "T2", AccountID: "B", OpenedAt: at(2025, 1, 20, 10), FirstResponseAt: at(2025, 1, 20, 14),
			ResolvedAt: at(2025, 2, 2, 10), Priority: "high", Category: "billing", CSAT: 2, AgentReplies: 3},
		{TicketID: "T3", AccountID: "C", OpenedAt: at(2025, 1, 31, 20), FirstResponseAt: at(2025, 2, 1, 2),
			Priority: "normal", Category: "bug"},
		{TicketID: "T4", AccountID: "A", OpenedAt: at(2025, 2, 5, 8), FirstResponseAt: at(2025, 2, 5, 9),
			ResolvedAt: at(2025, 2, 5, 12), Priority: "low", Category: "how-to", CSAT: 4},
	} {
		b.AddTicket(&tk)
	}
	for _, e := range []features.Escalation{
		{AccountID: "A", At: at(2025, 1, 12, 0), Direction: "negative"},
		{AccountID: "B", At: at(2025, 2, 14, 0), Direction: "positive"},
		{AccountID: "B", At: at(2025, 2, 20, 0), Direction: "negative"},
	} {
		b.AddEscalation(&e)
	}
	for _, r := range []features.SurveyResponse{
		{AccountID: "E", At: at(2025, 1, 15, 0), Kind: "csat", Score: 3},
		{AccountID: "A", At: at(2025, 1, 20, 0), Kind: "nps", Score: 10},
		{AccountID: "B", At: at(2025, 2, 20, 0), Kind: "nps", Score: 9},
		{AccountID: "C", At: at(2025, 3, 1, 0), Kind: "nps", Score: 7},
		{AccountID: "D", At: at(2025, 3, 5, 0), Kind: "nps", Score: 3},
		{AccountID: "E", At: at(2025, 3, 9, 0), Kind: "nps", Score: 8},
	} {
		b.AddSurveyResponse(&r)
	}
	b.AddPQL("G", at(2025, 1, 12, 0))
	for _, s := range []features.Spend{
		{Month: at(2025, 1, 1, 0), Channel: "ads", Amount: 300, Kind: features.SpendMarketing},
		{Month: at(2025, 1, 1, 0), Channel: "ads", Amount: 100, Kind: features.SpendSales},
		{Month: at(2025, 3, 1, 0), Channel: "ads", Amount: 200, Kind: features.SpendMarketing},
	} {
		must(t, b.AddSpend(&s))
	}
	b.Finish()
	return b
}

var (
	jan = MonthOf(at(2025, 1, 1, 0))
	q1  = Range{From: jan, To: jan + 2}
)

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// k is a known value, x an absent one (the reason is checked apart).
func k(v float64) Value { return Known(v) }

var x = Absent("")

// same compares two values to 1e-9, or their absence.
func same(a, b Value) bool {
	av, aok := a.Float()
	bv, bok := b.Float()
	return aok == bok && (!aok || math.Abs(av-bv) <= 1e-9*math.Max(1, math.Abs(bv)))
}

func checkValues(t *testing.T, row string, got, want map[string]Value, absent Absences) {
	t.Helper()
	for name, w := range want {
		g := got[name]
		if !same(g, w) {
			t.Errorf("%s %s = %v (%q), want %v", row, name, g, g.Reason(), w)
		}
		if _, ok := g.Float(); !ok && (g.Reason() == "" || absent[name] != g.Reason()) {
			t.Errorf("%s %s is absent without its reason in Absent (%q, %q)", row, name, g.Reason(), absent[name])
		}
	}
}

func TestGoldenMRR(t *testing.T) {
	got, err := golden(t).MRR(q1)
	must(t, err)
	// Jan: new G 40 + J 30 = 70 (2 logos); expansion A +50; contraction B
	// −80; churned D 50 (C's churn on 01-31 is undone by its return in
	// grace). Net −10: 580 → 570. Quick ratio (70+50)/(50+80) = 12/13.
	// Customers at the end: A B C E F G J = 7.
	// Feb: expansion A +50 and C +10 (the return in grace, 80 → 90) = 60;
	// churned J 30. Net +30: 570 → 600. Quick ratio 60/30 = 2. Customers
	// A B C E F G = 6.
	// Mar: reactivation D 60; churned F 50 at its anniversary. Net +10:
	// 600 → 610. Quick ratio 60/50 = 1.2. Customers A B C D E G = 6.
	want := []MRRMonth{
		{Month: jan, StartMRR: 580, New: 70, Expansion: 50, Contraction: 80, Churned: 50, NetNew: -10, EndMRR: 570, ARR: 6840,
			Customers: 7, NewCustomers: 2, ChurnedCustomers: 1, QuickRatio: k(12.0 / 13)},
		{Month: jan + 1, StartMRR: 570, Expansion: 60, Churned: 30, NetNew: 30, EndMRR: 600, ARR: 7200,
			Customers: 6, ChurnedCustomers: 1, QuickRatio: k(2)},
		{Month: jan + 2, StartMRR: 600, Churned: 50, Reactivation: 60, NetNew: 10, EndMRR: 610, ARR: 7320,
			Customers: 6, ChurnedCustomers: 1, ReactivatedCustomers: 1, QuickRatio: k(1.2)},
	}
	if len(got) != len(want) {
		t.Fatalf("%d months, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !same(g.QuickRatio, w.QuickRatio) {
			t.Errorf("%s quick ratio = %v, want %v", w.Month, g.QuickRatio, w.QuickRatio)
		}
		if g.Absent["quick_ratio"] != g.QuickRatio.Reason() || len(g.Absent) > 1 {
			t.Errorf("%s absent %v", w.Month, g.Absent)
		}
		g.QuickRatio, w.QuickRatio, g.Absent = Value{}, Value{}, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s\n got %+v\nwant %+v", w.Month, g, w)
		}
	}
}

func TestGoldenRetention(t *testing.T) {
	got, err := golden(t).Retention(q1)
	must(t, err)
	// Jan: start customers A B C D E F (580); at the end D is gone: 5/6.
	// GRR Σ min(S2, S1) = 100+120+80+0+100+50 = 450 → 450/580; NRR Σ S2
	// = 150+120+80+0+100+50 = 500 → 500/580. Trailing 12 months: nobody
	// paid at the start of 2024-02 (E began on the 10th): absent. No
	// anniversary (E's is in February, F's in March): renewals absent.
	// Feb: start A B C E F G J (570); J is gone: 6/7. GRR (570−30)/570
	// = 540/570; NRR S3 = 600/570. T12 from 2024-03-01: E alone, kept at
	// 100: 1, 1, 1. E's anniversary: 1 due at 100, renewed at 100.
	// Mar: start A B C E F G (600); F is gone: 5/6. GRR = NRR = (200+
	// 120+90+100+0+40)/600 = 550/600 (D's return is not a start
	// customer's). T12 from 2024-04-01: E 100 and F 50; at the end E 100:
	// logos 1/2, GRR = NRR = 100/150. F's anniversary: due at 50, lost.
	type row struct {
		start, kept, due, renewed                           int
		startMRR, dueMRR, renewedMRR                        float64
		logo, churn, grr, nrr, logo12, grr12, nrr12, rr, ra Value
	}
	want := []row{
		{6, 5, 0, 0, 580, 0, 0, k(5.0 / 6), k(1.0 / 6), k(450.0 / 580), k(500.0 / 580), x, x, x, x, x},
		{7, 6, 1, 1, 570, 100, 100, k(6.0 / 7), k(1.0 / 7), k(540.0 / 570), k(600.0 / 570), k(1), k(1), k(1), k(1), k(1)},
		{6, 5, 1, 0, 600, 50, 0, k(5.0 / 6), k(1.0 / 6), k(550.0 / 600), k(550.0 / 600), k(0.5), k(100.0 / 150), k(100.0 / 150), k(0), k(0)},
	}
	for i, w := range want {
		g := got[i]
		name := g.Month.String()
		if g.StartCustomers != w.start || g.RetainedCustomers != w.kept || g.StartMRR != w.startMRR || g.RenewalsDue != w.due ||
			g.Renewed != w.renewed || g.RenewalMRRDue != w.dueMRR || g.RenewedMRR != w.renewedMRR {
			t.Errorf("%s counts %+v, want %+v", name, g, w)
		}
		checkValues(t, name, map[string]Value{"logo_retention": g.LogoRetention, "logo_churn": g.LogoChurn, "grr": g.GRR, "nrr": g.NRR,
			"logo_retention_t12m": g.LogoRetentionT12, "grr_t12m": g.GRRT12, "nrr_t12m": g.NRRT12, "renewal_rate": g.RenewalRate,
			"renewal_amount_rate": g.RenewalAmountRate},
			map[string]Value{"logo_retention": w.logo, "logo_churn": w.churn, "grr": w.grr, "nrr": w.nrr, "logo_retention_t12m": w.logo12,
				"grr_t12m": w.grr12, "nrr_t12m": w.nrr12, "renewal_rate": w.rr, "renewal_amount_rate": w.ra}, g.Absent)
	}
}

func TestGoldenCohorts(t *testing.T) {
	b := golden(t)
	// First subscriptions in the range: G (40) and J (30), both in
	// January. End of Jan: both pay (70 of 70); end of Feb and Mar: G
	// alone (40 of 70). By channel G is ads, J partner.
	tests := []struct {
		by   CohortBy
		want []Cohort
	}{
		{BySignupMonth, []Cohort{{Cohort: "2025-01", Customers: 2, NewMRR: 70,
			Logos: []Value{k(1), k(0.5), k(0.5)}, Revenue: []Value{k(1), k(40.0 / 70), k(40.0 / 70)}}}},
		{ByChannel, []Cohort{
			{Cohort: "ads", Customers: 1, NewMRR: 40, Logos: []Value{k(1), k(1), k(1)}, Revenue: []Value{k(1), k(1), k(1)}},
			{Cohort: "partner", Customers: 1, NewMRR: 30, Logos: []Value{k(1), k(0), k(0)}, Revenue: []Value{k(1), k(0), k(0)}},
		}},
	}
	for _, tt := range tests {
		got, err := b.Cohorts(q1, tt.by)
		must(t, err)
		if len(got) != len(tt.want) {
			t.Fatalf("by %s: %d cohorts, want %d", tt.by, len(got), len(tt.want))
		}
		for i, w := range tt.want {
			g := got[i]
			if g.Cohort != w.Cohort || g.Customers != w.Customers || g.NewMRR != w.NewMRR || len(g.Logos) != len(w.Logos) || len(g.Revenue) != len(w.Revenue) {
				t.Fatalf("by %s: cohort %+v, want %+v", tt.by, g, w)
			}
			for a := range w.Logos {
				if !same(g.Logos[a], w.Logos[a]) || !same(g.Revenue[a], w.Revenue[a]) {
					t.Errorf("by %s %s age %d: logos %v revenue %v, want %v %v", tt.by, w.Cohort, a, g.Logos[a], g.Revenue[a], w.Logos[a], w.Revenue[a])
				}
			}
		}
	}
}

func TestGoldenUnitEconomics(t *testing.T) {
	got, err := golden(t).UnitEconomics(q1)
	must(t, err)
	// Jan: ARPA 570/7; new 70/2 = 35; existing: the 5 start customers who
	// stayed end at 150+120+80+100+50 = 500: 100. Churn 1/6, LTV =
	// (570/7)÷(1/6) = 3420/7, × 0.8 = 2736/7. Spend 300 + 100 = 400 over 2
	// new: CAC 200; payback 200/(35 × 0.8) = 50/7; LTV:CAC (2736/7)/200.
	// Feb: ARPA 600/6 = 100; no new customer; existing 600/6 = 100; churn
	// 1/7, LTV 700, × 0.8 = 560. No spend: CAC, payback, LTV:CAC absent.
	// Mar: ARPA 610/6; existing (200+120+90+100+40)/5 = 110; churn 1/6,
	// LTV 610, × 0.8 = 488. Spend 200 but no new customer: CAC absent.
	// Range: ARPA (570+600+610)/(7+6+6) = 1780/19; new 70/2 = 35;
	// existing (500+600+550)/(5+6+5) = 1650/16; churn 3/19 per
	// customer-month; LTV 1780/3, × 0.8 = 1424/3; spend 600 (500 + 100)
	// over 2 new: CAC 300; payback 300/28; LTV:CAC (1424/3)/300.
	type row struct{ arpa, arpaNew, arpaOld, churn, ltv, ltvGM, mkt, sales, spend, cac, payback, ratio Value }
	want := []row{
		{k(570.0 / 7), k(35), k(100), k(1.0 / 6), k(3420.0 / 7), k(2736.0 / 7), k(300), k(100), k(400), k(200), k(50.0 / 7), k(2736.0 / 7 / 200)},
		{k(100), x, k(100), k(1.0 / 7), k(700), k(560), x, x, x, x, x, x},
		{k(610.0 / 6), x, k(110), k(1.0 / 6), k(610), k(488), k(200), k(0), k(200), x, x, x},
	}
	total := row{k(1780.0 / 19), k(35), k(1650.0 / 16), k(3.0 / 19), k(1780.0 / 3), k(1424.0 / 3), k(500), k(100), k(600), k(300), k(300.0 / 28), k(1424.0 / 3 / 300)}
	check := func(name string, g UnitMonth, w row) {
		t.Helper()
		if !g.MarginAdjusted {
			t.Errorf("%s: not margin adjusted", name)
		}
		checkValues(t, name, map[string]Value{"arpa": g.ARPA, "arpa_new": g.ARPANew, "arpa_existing": g.ARPAExisting, "churn_rate": g.ChurnRate,
			"ltv": g.LTV, "ltv_gross_margin": g.LTVGrossMargin, "marketing_spend": g.MarketingSpend, "sales_spend": g.SalesSpend, "spend": g.Spend,
			"cac": g.CAC, "payback_months": g.PaybackMonths, "ltv_to_cac": g.LTVToCAC},
			map[string]Value{"arpa": w.arpa, "arpa_new": w.arpaNew, "arpa_existing": w.arpaOld, "churn_rate": w.churn, "ltv": w.ltv,
				"ltv_gross_margin": w.ltvGM, "marketing_spend": w.mkt, "sales_spend": w.sales, "spend": w.spend, "cac": w.cac,
				"payback_months": w.payback, "ltv_to_cac": w.ratio}, g.Absent)
	}
	for i, w := range want {
		check(got.Months[i].Month.String(), got.Months[i], w)
	}
	check("total", got.Total, total)
	// By channel over the range: ads spent 600 and brought G; partner
	// brought J without spend.
	wantCAC := []struct {
		channel    string
		spend, cac Value
		n          int
	}{{"ads", k(600), k(600), 1}, {"partner", x, x, 1}}
	if len(got.ByChannel) != len(wantCAC) {
		t.Fatalf("by channel %+v, want %d channels", got.ByChannel, len(wantCAC))
	}
	for i, w := range wantCAC {
		g := got.ByChannel[i]
		if g.Channel != w.channel || g.NewCustomers != w.n {
			t.Errorf("channel %+v, want %+v", g, w)
		}
		checkValues(t, w.channel, map[string]Value{"spend": g.Spend, "cac": g.CAC}, map[string]Value{"spend": w.spend, "cac": w.cac}, g.Absent)
	}
	if got.Total.Month != nil || got.Total.NewCustomers != 2 {
		t.Errorf("total month %v, new customers %d; want none, 2", got.Total.Month, got.Total.NewCustomers)
	}
}

func TestGoldenFunnel(t *testing.T) {
	got, err := golden(t).Funnel(q1)
	must(t, err)
	// January's trials: G (activated by "reports" on day 3, PQL,
	// converted after 12 days) and H (only "login", lapsed). February and
	// March start none.
	type row struct {
		cohort                                string
		trials, converted                     int
		act, pqls, actRate, pqlRate, convRate Value
		actConv, daysMean, daysMedian         Value
	}
	check := func(g FunnelRow, w row) {
		t.Helper()
		if g.Cohort != w.cohort || g.Trials != w.trials || g.Converted != w.converted {
			t.Errorf("cohort %s: %d trials %d converted, want %s %d %d", g.Cohort, g.Trials, g.Converted, w.cohort, w.trials, w.converted)
		}
		checkValues(t, g.Cohort, map[string]Value{"activated": g.Activated, "pqls": g.PQLs, "activation_rate": g.ActivationRate, "pql_rate": g.PQLRate,
			"conversion_rate": g.ConversionRate, "activated_conversion_rate": g.ActivatedConversionRate,
			"days_to_convert_mean": g.DaysToConvertMean, "days_to_convert_median": g.DaysToConvertMedian},
			map[string]Value{"activated": w.act, "pqls": w.pqls, "activation_rate": w.actRate, "pql_rate": w.pqlRate,
				"conversion_rate": w.convRate, "activated_conversion_rate": w.actConv,
				"days_to_convert_mean": w.daysMean, "days_to_convert_median": w.daysMedian}, g.Absent)
	}
	none := func(m string) row { return row{m, 0, 0, k(0), k(0), x, x, x, x, x, x} }
	byMonth := []row{
		{"2025-01", 2, 1, k(1), k(1), k(0.5), k(0.5), k(0.5), k(1), k(12), k(12)},
		none("2025-02"), none("2025-03"),
	}
	for i, w := range byMonth {
		check(got.ByMonth[i], w)
	}
	byChannel := []row{
		{"ads", 1, 1, k(1), k(1), k(1), k(1), k(1), k(1), k(12), k(12)},
		{"organic", 1, 0, k(0), k(0), k(0), k(0), k(0), x, x, x},
	}
	if len(got.ByChannel) != len(byChannel) {
		t.Fatalf("%d channels, want %d", len(got.ByChannel), len(byChannel))
	}
	for i, w := range byChannel {
		check(got.ByChannel[i], w)
	}
	check(got.Total, row{"total", 2, 1, k(1), k(1), k(0.5), k(0.5), k(0.5), k(1), k(12), k(12)})
	// Lead velocity: January's 2 trials and 1 PQL follow none in
	// December (growth absent); February has none: −100 % of both; March
	// follows none again.
	velocity := []struct {
		trials                  int
		growth, pqls, pqlGrowth Value
	}{{2, x, k(1), x}, {0, k(-1), k(0), k(-1)}, {0, x, k(0), x}}
	for i, w := range velocity {
		g := got.LeadVelocity[i]
		if g.Trials != w.trials {
			t.Errorf("%s trials %d, want %d", g.Month, g.Trials, w.trials)
		}
		checkValues(t, g.Month.String(), map[string]Value{"trial_growth": g.TrialGrowth, "pqls": g.PQLs, "pql_growth": g.PQLGrowth},
			map[string]Value{"trial_growth": w.growth, "pqls": w.pqls, "pql_growth": w.pqlGrowth}, g.Absent)
	}
}

func TestGoldenSupport(t *testing.T) {
	got, err := golden(t).Support(q1)
	must(t, err)
	// Jan: opened T1 T2 T3 (bug 2, billing 1). First answered in Jan: T1
	// 2 h, T2 4 h (mean = median = 3). Resolved in Jan: T1 in 24 h, with
	// one agent reply: FCR 1/1. Ratings: T1's 5 and E's CSAT survey 3:
	// satisfied 1/2, mean 4. Escalations: 1 negative. Usage: A (users u1
	// u2, features reports login, user-days 2 + 1), G (g1 g2; login
	// reports; 1 + 2), H (h1; login; 1 + 1): 3 accounts, 5 users, 8
	// user-days: DAU/MAU = (8/31)/5; adoption (2+2+1)/10/3 = 1/6.
	// Feb: opened T4 (how-to). First answered: T3 6 h, T4 1 h (3.5).
	// Resolved: T2 in 312 h, T4 in 4 h (mean = median = 158); T2 has 3
	// replies, T4 none recorded: FCR 0/1. Ratings T2's 2 and T4's 4: 1/2,
	// mean 3. Escalations 1 negative, 1 positive. Usage: A's u1 on one
	// day with one feature: DAU/MAU (1/28)/1, adoption 1/10.
	// Mar: nothing but absences.
	type row struct {
		opened, ratings, neg, pos, accounts, users int
		byCategory                                 map[string]int
		frMean, frMedian, resMean, resMedian       Value
		fcr, csat, csatMean, dauMau, adoption      Value
	}
	want := []row{
		{3, 2, 1, 0, 3, 5, map[string]int{"bug": 2, "billing": 1}, k(3), k(3), k(24), k(24), k(1), k(0.5), k(4), k(8.0 / 31 / 5), k(1.0 / 6)},
		{1, 2, 1, 1, 1, 1, map[string]int{"how-to": 1}, k(3.5), k(3.5), k(158), k(158), k(0), k(0.5), k(3), k(1.0 / 28), k(0.1)},
		{0, 0, 0, 0, 0, 0, map[string]int{}, x, x, x, x, x, x, x, x, x},
	}
	for i, w := range want {
		g := got.Months[i]
		name := g.Month.String()
		if g.TicketsOpened != w.opened || g.CSATRatings != w.ratings || g.NegativeEscalations != w.neg || g.PositiveEscalations != w.pos ||
			g.ActiveAccounts != w.accounts || g.ActiveUsers != w.users || len(g.ByCategory) != len(w.byCategory) {
			t.Errorf("%s counts %+v, want %+v", name, g, w)
		}
		for c, n := range w.byCategory {
			if g.ByCategory[c] != n {
				t.Errorf("%s category %s: %d, want %d", name, c, g.ByCategory[c], n)
			}
		}
		checkValues(t, name, map[string]Value{"first_response_hours_mean": g.FirstResponseHoursMean, "first_response_hours_median": g.FirstResponseHoursMedian,
			"resolution_hours_mean": g.ResolutionHoursMean, "resolution_hours_median": g.ResolutionHoursMedian, "first_contact_resolution": g.FirstContactResolution,
			"csat": g.CSAT, "csat_mean": g.CSATMean, "dau_mau": g.DAUMAU, "adoption": g.Adoption},
			map[string]Value{"first_response_hours_mean": w.frMean, "first_response_hours_median": w.frMedian, "resolution_hours_mean": w.resMean,
				"resolution_hours_median": w.resMedian, "first_contact_resolution": w.fcr, "csat": w.csat, "csat_mean": w.csatMean,
				"dau_mau": w.dauMau, "adoption": w.adoption}, g.Absent)
	}
	// NPS, 2025-Q1: A 10 and B 9 promote, C 7 and E 8 are passive, D 3
	// detracts: 100 × (2 − 1)/5 = 20.
	if len(got.NPS) != 1 {
		t.Fatalf("NPS quarters %+v, want one", got.NPS)
	}
	n := got.NPS[0]
	if n.Quarter != "2025-Q1" || n.Responses != 5 || n.Promoters != 2 || n.Passives != 2 || n.Detractors != 1 || !same(n.NPS, k(20)) {
		t.Errorf("NPS %+v, want 2025-Q1 with 5 responses, 2/2/1, NPS 20", n)
	}
}

// TestGoldenRolledUp checks that a Book given the usage as the store
// keeps it (rolled up by month, and the trials' key-feature use) computes
// the funnel and the customer-success figures, and the data's end, that
// the events give.
func TestGoldenRolledUp(t *testing.T) {
	events, rolled := golden(t), goldenBook(t, true)
	if events.DataEnd() != rolled.DataEnd() {
		t.Errorf("data end %v rolled up, %v from the events", rolled.DataEnd(), events.DataEnd())
	}
	for name, report := range map[string]func(*Book) (any, error){
		"funnel":  func(b *Book) (any, error) { return b.Funnel(q1) },
		"support": func(b *Book) (any, error) { return b.Support(q1) },
	} {
		want, err := report(events)
		must(t, err)
		got, err := report(rolled)
		must(t, err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s rolled up\n got %+v\nwant %+v", name, got, want)
		}
	}
}

func TestGoldenWindow(t *testing.T) {
	// (2025-01-01, 2025-03-01], 59 days: start customers A B C D E F at
	// 580; at the end A 200 B 120 C 90 E 100 F 50 G 40 = 600, 6 customers.
	// D churned: 1/6. Lost: B 80 + D 50 = 130. Kept 560 of 580. Monthly
	// churn 1 ÷ (6 × 59/30.4375); ARPA 100; LTV = 100 × 6 × 59/30.4375.
	b := golden(t)
	if end := b.DataEnd(); !end.Equal(at(2025, 3, 15, 0)) { // F's churn
		t.Errorf("data end %v, want 2025-03-15", end)
	}
	w := b.Window(at(2025, 1, 1, 0), at(2025, 3, 1, 0))
	months := 59 / (365.25 / 12)
	if w.StartCustomers != 6 || w.Customers != 6 || w.StartMRR != 580 || w.MRR != 600 || !same(k(w.LogoChurnRate), k(1.0/6)) ||
		!same(k(w.RevenueChurnRate), k(130.0/580)) || !same(k(w.NRR), k(560.0/580)) || !same(k(w.MonthlyChurnRate), k(1/(6*months))) ||
		w.ARPA != 100 || !same(w.LTV, k(100*6*months)) {
		t.Errorf("window %+v", w)
	}
}

func TestValueJSON(t *testing.T) {
	m := MRRMonth{Month: jan, QuickRatio: Absent("nothing lost")}
	m.Absent.note("quick_ratio", m.QuickRatio)
	b, err := json.Marshal(m)
	must(t, err)
	var back map[string]any
	must(t, json.Unmarshal(b, &back))
	if back["month"] != "2025-01" || back["quick_ratio"] != nil || back["absent"].(map[string]any)["quick_ratio"] != "nothing lost" {
		t.Errorf("JSON %s", b)
	}
}

func TestTable(t *testing.T) {
	b := golden(t)
	cohorts, err := b.Cohorts(q1, ByChannel)
	must(t, err)
	header, rows, err := Table(cohorts)
	must(t, err)
	wantHeader := []string{"cohort", "customers", "new_mrr", "logos_0", "logos_1", "logos_2", "revenue_0", "revenue_1", "revenue_2"}
	if !reflect.DeepEqual(header, wantHeader) || len(rows) != 2 ||
		!reflect.DeepEqual(rows[1], []string{"partner", "1", "30", "1", "0", "0", "1", "0", "0"}) {
		t.Errorf("cohorts table %v %v", header, rows)
	}
	support, err := b.Support(q1)
	must(t, err)
	header, rows, err = Table(support)
	must(t, err)
	col := func(name string) int { return slices.Index(header, name) }
	if header[0] != "section" || len(rows) != 4 || rows[0][0] != "months" || rows[3][0] != "nps" ||
		rows[0][col("tickets_by_category.bug")] != "2" || rows[2][col("csat")] != "" || rows[3][col("nps")] != "20" ||
		!strings.Contains(rows[2][col("absent")], "csat: no CSAT rating in the month") {
		t.Errorf("support table %v\n%v", header, rows)
	}
	if _, _, err := Table(42); err == nil {
		t.Error("Table(42) succeeded")
	}
}
