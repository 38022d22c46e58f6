package simulate

import (
	"math"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// A channel is how accounts are acquired. Each has its own cost per new
// customer (CAC) and split of that cost between marketing and sales, so
// that the demo's CAC, payback and LTV:CAC differ by channel as they do
// in a real business.
type channel struct {
	name string
	// cac is the mean acquisition cost of a new customer; base the
	// monthly spend that brings none (brand, tools, salaries).
	cac, base float64
	// sales is the share of the spend that is sales, the rest marketing.
	sales float64
	attrs map[string]string // the account attributes naming it, shared read-only
}

var channels = func() []channel {
	cs := []channel{
		{name: "organic", cac: 120, base: 400, sales: 0},
		{name: "ads", cac: 900, base: 1500, sales: 0.1},
		{name: "partner", cac: 650, base: 500, sales: 0.6},
		{name: "outbound", cac: 3200, base: 4000, sales: 0.85},
		{name: "events", cac: 2200, base: 2500, sales: 0.3},
	}
	for i := range cs {
		cs[i].attrs = map[string]string{"channel": cs[i].name}
	}
	return cs
}()

// channelWeights holds each segment's channel mix, in the order of
// channels: small businesses find the product themselves or through
// ads, enterprises are sold to.
var channelWeights = [][]float64{
	smb:        {0.35, 0.40, 0.15, 0.05, 0.05},
	midMarket:  {0.20, 0.25, 0.20, 0.20, 0.15},
	enterprise: {0.05, 0.10, 0.20, 0.40, 0.25},
}

// pickChannel draws the acquisition channel of account idx in segment
// seg, from its own stream so that no other draw changes.
func pickChannel(seed, idx uint64, seg int) int {
	r := newRNG(seed, idx, accountDay, streamChannel)
	return r.pick(channelWeights[seg])
}

// acquisitions counts new customers per calendar month (months since
// year 0, as year × 12 + month − 1) and channel.
type acquisitions map[[2]int]int64

func monthKey(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// appendSpend appends the spend rows of every calendar month of the
// history: per channel, its base plus cac × the month's new customers,
// each with lognormal noise of its own stream, split into marketing and
// sales.
func appendSpend(dst []byte, s *sim, acq acquisitions) ([]byte, int64) {
	var rows int64
	first, last := monthKey(s.cal.start), monthKey(s.cal.start.AddDate(0, 0, s.cal.nDays-1))
	for m := first; m <= last; m++ {
		month := time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC)
		for ci, c := range channels {
			r := newRNG(s.seed, uint64(ci), int64(m), streamSpend)
			total := (c.base + c.cac*float64(acq[[2]int{m, ci}])) * math.Exp(0.2*r.normal()-0.02)
			for _, part := range []struct {
				kind  string
				share float64
			}{{features.SpendMarketing, 1 - c.sales}, {features.SpendSales, c.sales}} {
				if part.share == 0 {
					continue
				}
				row := features.Spend{Month: month, Channel: c.name, Kind: part.kind, Amount: math.Round(total*part.share*100) / 100}
				dst = recordio.AppendSpend(dst, &row)
				rows++
			}
		}
	}
	return dst, rows
}

// appendAccountRow appends a as a line of the accounts file: the canonical
// columns, then attr_channel.
func appendAccountRow(dst []byte, a *features.Account) []byte {
	dst = recordio.AppendAccount(dst, a)
	dst = append(dst[:len(dst)-1], ',')
	dst = append(dst, a.Attributes["channel"]...)
	return append(dst, '\n')
}
