package api

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// so that two servers in one process (tests) do not collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ingested *prometheus.CounterVec
	// deliveries counts webhook delivery attempts by result.
	deliveries *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "churn_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_ingested_records_total", Help: "Records stored through HTTP ingestion, by table.",
		}, []string{"table"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "churn_webhook_deliveries_total", Help: "Webhook delivery attempts by result: delivered, retried or dead.",
		}, []string{"result"}),
	}
	for _, r := range []string{alerts.ResultDelivered, alerts.ResultRetried, alerts.ResultDead} {
		m.deliveries.WithLabelValues(r) // every result shows, at 0, from the start
	}
	m.registry.MustRegister(m.requests, m.duration, m.ingested, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe logs every request with slog and counts it. The log names the
// key's id, never the key.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			s.handleError(err, c)
		}
		elapsed := time.Since(start)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		s.metrics.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		if s.opts.AccessLog {
			attrs := []slog.Attr{slog.String("method", c.Request().Method), slog.String("route", route),
				slog.String("path", c.Request().URL.Path), slog.Int("status", status),
				slog.Int64("bytes", c.Response().Size), slog.Duration("elapsed", elapsed),
				slog.String("request_id", requestID(c)), slog.String("remote", c.RealIP())}
			if key, ok := c.Get(keyContext).(access.Key); ok {
				attrs = append(attrs, slog.String("key_id", key.ID), slog.String("role", string(key.Role)))
			}
			s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
		}
		return nil
	}
}
