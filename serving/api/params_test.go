package api

import (
	"testing"
	"time"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestStrictQuery refuses, with a 400, query parameters that are not
// exactly what the API document says, on both stores.
func TestStrictQuery(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		c, _, key := outageServers(t, s)
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
		tests := []struct {
			path string
			want int
		}{
			{"/v1/accounts/a1?refresh=maybe", 400},
			{"/v1/accounts/a1?refresh=1", 400},
			{"/v1/accounts/a1?refresh=true", 404},
			{"/v1/accounts/a1?refresh=false", 404},
			{"/v1/trials/a1?refresh=yes", 400},
			{"/v1/trials?pql=TRUE", 400},
			{"/v1/trials?pql=t", 400},
			{"/v1/trials?pql=false", 200},
			{"/v1/metrics/saas?as_of=0001-01-01", 400},
			{"/v1/metrics/saas?as_of=1969-12-31", 400},
			{"/v1/metrics/saas?as_of=3000-01-01", 400},
			{"/v1/metrics/saas?as_of=2024-02-30", 400},
			{"/v1/metrics/saas?as_of=2024-06-01", 200},
			{"/v1/metrics/saas?as_of=" + tomorrow, 200},
		}
		for _, tt := range tests {
			if code, body := c.do("GET", tt.path, key, nil); code != tt.want {
				t.Errorf("GET %s: %d, want %d: %v", tt.path, code, tt.want, body)
			}
		}
	})
}
