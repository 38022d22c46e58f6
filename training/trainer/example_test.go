package trainer_test

import (
	"fmt"
	"time"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/trainer"
)

// ExampleRows shows the purge at both cuts: May's label, known mid-June,
// is unknown at the June cut, and March's, known mid-April, at the
// validation cut in April; neither is trained on.
func ExampleRows() {
	months := 6
	e := &trainer.Examples{Data: &models.Dataset{Schema: models.Schema{{Name: "x"}}, Columns: [][]float64{nil}}}
	for m := range months {
		asOf := time.Date(2024, time.Month(1+m), 1, 0, 0, 0, 0, time.UTC)
		e.Data.Columns[0] = append(e.Data.Columns[0], float64(m))
		e.Data.Labels = append(e.Data.Labels, float64(m%2))
		e.Accounts = append(e.Accounts, "acme")
		e.AsOf, e.Known = append(e.AsOf, asOf), append(e.Known, asOf.AddDate(0, 0, 45))
	}
	w := trainer.Window{Cut: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)}
	s, err := trainer.Rows(e, w, 0.3)
	if err != nil {
		fmt.Println(err)
		return
	}
	at := func(rows []int) (out []string) {
		for _, i := range rows {
			out = append(out, e.AsOf[i].Format("Jan"))
		}
		return out
	}
	fmt.Println("train", at(s.Train), "validate", at(s.Valid), "test", at(s.Test), "purged", s.Purged)
	// Output:
	// train [Jan Feb] validate [Apr] test [Jun] purged 2
}

func ExampleRollingWindows() {
	back := func(t time.Time) time.Time { return t.AddDate(0, -1, 0) }
	for _, w := range trainer.RollingWindows(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 3, back) {
		fmt.Println(w)
	}
	// Output:
	// [2024-10-01, 2024-11-01)
	// [2024-11-01, 2024-12-01)
	// [2024-12-01, 2025-01-01)
}
