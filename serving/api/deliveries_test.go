package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestOutboxMetricsAndRetry follows the outbox's deliveries on both stores
// through /metrics while a receiver is down, lists the dead ones and
// re-queues one, which is then delivered.
func TestOutboxMetricsAndRetry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ts := newTestServer(t, s, Options{})
		c := newClient(t, ts.url)
		admin, viewer := ts.keys[access.Admin], ts.keys[access.Viewer]
		// A negative escalation raises its alert, and queues its
		// delivery, as it is ingested.
		esc := `{"escalation_id":"outbox-test","account_id":"A0000001","at":"` + time.Now().UTC().Format(time.RFC3339) +
			`","direction":"negative","severity":"high"}`
		if code, out := c.do("POST", "/v1/ingest/escalations", ts.keys[access.Ingest], esc); code != http.StatusOK {
			t.Fatalf("ingesting an escalation: %d %v", code, out)
		}
		queued, err := s.Deliveries(ctx, alerts.DeliveryPending, 1000)
		if err != nil || len(queued) == 0 {
			t.Fatalf("the demo queued no deliveries: %v", err)
		}
		n := len(queued)
		if got := metric(t, ts.url, `churn_webhook_queue_depth{status="pending"}`); got != float64(n) {
			t.Errorf("queue depth %v, want %d pending", got, n)
		}
		if age := metric(t, ts.url, "churn_webhook_oldest_pending_age_seconds"); age <= 0 {
			t.Errorf("oldest pending age %v, want > 0", age)
		}

		var up atomic.Bool
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if !up.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
			}
		}))
		defer receiver.Close()
		now := time.Now()
		d := &alerts.Dispatcher{Outbox: s, Observe: ts.srv.ObserveDelivery, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
			Webhook: alerts.Webhook{URL: receiver.URL, MaxAttempts: 2, Backoff: time.Minute, MaxBackoff: time.Minute, Timeout: 5 * time.Second}}
		for range 2 { // two failed attempts: retried, then dead
			if _, _, err := d.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			now = now.Add(2 * time.Minute)
		}
		for series, want := range map[string]int{
			`churn_webhook_deliveries_total{result="retried"}`: n, `churn_webhook_deliveries_total{result="dead"}`: n,
			`churn_webhook_deliveries_total{result="delivered"}`: 0, `churn_webhook_queue_depth{status="dead"}`: n,
			`churn_webhook_queue_depth{status="pending"}`: 0, "churn_webhook_oldest_pending_age_seconds": 0,
		} {
			if got := metric(t, ts.url, series); got != float64(want) {
				t.Errorf("%s = %v, want %d", series, got, want)
			}
		}

		if code, _ := c.do("GET", "/v1/deliveries?status=dead", viewer, nil); code != 403 {
			t.Errorf("a viewer lists deliveries: %d, want 403", code)
		}
		if code, _ := c.do("GET", "/v1/deliveries?status=lost", admin, nil); code != 400 {
			t.Errorf("an unknown status: %d, want 400", code)
		}
		code, dead := c.do("GET", "/v1/deliveries?status=dead", admin, nil)
		items, _ := dead["items"].([]any)
		if code != 200 || len(items) != min(n, 50) {
			t.Fatalf("dead deliveries: %d, %d items, want %d", code, len(items), min(n, 50))
		}
		id := items[0].(map[string]any)["id"].(string)
		code, retried := c.do("POST", "/v1/deliveries/"+id+"/retry", admin, nil)
		if code != 200 || retried["status"] != alerts.DeliveryPending || retried["attempts"] != 0.0 {
			t.Errorf("retry %s: %d %v", id, code, retried)
		}
		if code, _ := c.do("POST", "/v1/deliveries/"+id+"/retry", admin, nil); code != 409 {
			t.Errorf("retrying a pending delivery: %d, want 409", code)
		}
		if code, _ := c.do("POST", "/v1/deliveries/del_nope/retry", admin, nil); code != 404 {
			t.Errorf("retrying an unknown delivery: %d, want 404", code)
		}
		up.Store(true)
		if delivered, _, err := d.DeliverDue(ctx); err != nil || delivered != 1 {
			t.Errorf("after the retry, %d delivered (%v), want 1", delivered, err)
		}
		if got := metric(t, ts.url, `churn_webhook_deliveries_total{result="delivered"}`); got != 1 {
			t.Errorf("delivered counter %v, want 1", got)
		}
		if got := metric(t, ts.url, `churn_webhook_queue_depth{status="dead"}`); got != float64(n-1) {
			t.Errorf("dead after the retry %v, want %d", got, n-1)
		}
	})
}

// metric returns the value of one series on the server's /metrics.
func metric(t *testing.T, base, series string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no %s", series)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
