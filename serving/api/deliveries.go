package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openchurn/churn/serving/alerts"
)

// OutboxStore is what the delivery endpoints and the outbox metrics read
// and write.
type OutboxStore interface {
	Deliveries(ctx context.Context, status string, limit int) ([]alerts.Delivery, error)
	RetryDelivery(ctx context.Context, id string, now time.Time) (alerts.Delivery, error)
	OutboxStats(ctx context.Context) (alerts.OutboxStats, error)
}

// ObserveDelivery counts a webhook delivery attempt's result (an
// alerts.Result* value) in churn_webhook_deliveries_total; the server's
// dispatcher calls it through alerts.Dispatcher.Observe.
func (s *Server) ObserveDelivery(result string) {
	s.metrics.deliveries.WithLabelValues(result).Inc()
}

// outboxCollector reports the outbox's queue at every scrape: pending and
// dead deliveries, and the age of the oldest pending one. A store that
// does not answer within the scrape's 2 s reports nothing, rather than
// stale figures.
type outboxCollector struct {
	store    OutboxStore
	depth    *prometheus.Desc
	age      *prometheus.Desc
	scrapeOK *prometheus.Desc
}

func newOutboxCollector(s OutboxStore) *outboxCollector {
	return &outboxCollector{
		store: s,
		depth: prometheus.NewDesc("churn_webhook_queue_depth", "Webhook deliveries in the outbox, by status (pending, dead).",
			[]string{"status"}, nil),
		age: prometheus.NewDesc("churn_webhook_oldest_pending_age_seconds",
			"Age of the oldest pending webhook delivery; 0 when none is pending.", nil, nil),
		scrapeOK: prometheus.NewDesc("churn_webhook_outbox_up", "1 when the outbox could be read at this scrape, else 0.", nil, nil),
	}
}

func (o *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- o.depth
	ch <- o.age
	ch <- o.scrapeOK
}

func (o *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := o.store.OutboxStats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(o.scrapeOK, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(o.scrapeOK, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(o.depth, prometheus.GaugeValue, float64(st.Pending), alerts.DeliveryPending)
	ch <- prometheus.MustNewConstMetric(o.depth, prometheus.GaugeValue, float64(st.Dead), alerts.DeliveryDead)
	age := 0.0
	if !st.OldestPending.IsZero() {
		age = max(0, time.Since(st.OldestPending).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(o.age, prometheus.GaugeValue, age)
}

// listDeliveries lists the outbox's deliveries of ?status= (pending,
// delivered or dead; all when absent), oldest first.
func (s *Server) listDeliveries(c echo.Context) error {
	status := c.QueryParam("status")
	switch status {
	case "", alerts.DeliveryPending, alerts.DeliveryDelivered, alerts.DeliveryDead:
	default:
		return errorf(http.StatusBadRequest, "bad_request", "status must be pending, delivered or dead", map[string]string{"status": status})
	}
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	ds, err := s.store.Deliveries(c.Request().Context(), status, limit)
	if err != nil {
		return err
	}
	items := make([]deliveryView, len(ds))
	for i := range ds {
		items[i] = newDeliveryView(&ds[i])
	}
	return c.JSON(http.StatusOK, map[string][]deliveryView{"items": items})
}

// deliveryView is a webhook delivery as the API shows it: without its
// payload, which holds the alert the receiver gets.
type deliveryView struct {
	ID            string    `json:"id"`
	AlertID       string    `json:"alert_id"`
	Owner         string    `json:"owner"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LastError     string    `json:"last_error,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	DeliveredAt   time.Time `json:"delivered_at,omitzero"`
}

func newDeliveryView(d *alerts.Delivery) deliveryView {
	return deliveryView{ID: d.ID, AlertID: d.AlertID, Owner: d.Owner, Status: d.Status, Attempts: d.Attempts,
		NextAttemptAt: d.NextAttemptAt, LastError: d.LastError, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt}
}

// retryDelivery puts a dead delivery back in the queue, due now.
func (s *Server) retryDelivery(c echo.Context) error {
	d, err := s.store.RetryDelivery(c.Request().Context(), c.Param("id"), time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newDeliveryView(&d))
}
