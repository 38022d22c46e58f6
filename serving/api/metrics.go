package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving"
)

// metricsTTL is how long a metrics report's book of records is reused:
// the funnel and support reports read every usage event, which at
// 100,000 accounts costs seconds, and the figures are monthly.
const metricsTTL = time.Minute

// metricsBooks caches one saas.Book per report, each built by one
// request at a time.
type metricsBooks struct {
	mu    sync.Mutex
	books map[serving.MetricsReport]*cachedBook
}

type cachedBook struct {
	book *saas.Book
	at   time.Time
}

// mountMetrics registers the SaaS metrics endpoints (docs/METRICS.md) on
// g, behind auth.
func (s *Server) mountMetrics(g *echo.Group, auth echo.MiddlewareFunc) {
	books := &metricsBooks{books: map[serving.MetricsReport]*cachedBook{}}
	for _, r := range serving.MetricsReports {
		g.GET("/metrics/"+string(r), s.metricsReport(books, r), auth)
	}
}

// metricsReport answers GET /v1/metrics/{report}?from=YYYY-MM&to=YYYY-MM
// (and by=signup_month|channel for cohorts).
func (s *Server) metricsReport(books *metricsBooks, report serving.MetricsReport) echo.HandlerFunc {
	return func(c echo.Context) error {
		var months [2]saas.Month
		for i, name := range []string{"from", "to"} {
			v := c.QueryParam(name)
			if v == "" {
				continue
			}
			m, err := saas.ParseMonth(v)
			if err != nil {
				return errorf(http.StatusBadRequest, "bad_request", name+" must be a month, YYYY-MM", nil)
			}
			months[i] = m
		}
		by := saas.BySignupMonth
		if v := c.QueryParam("by"); v != "" {
			if report != serving.ReportCohorts {
				return errorf(http.StatusBadRequest, "bad_request", "by applies to /v1/metrics/cohorts only", nil)
			}
			var err error
			if by, err = saas.ParseCohortBy(v); err != nil {
				return errorf(http.StatusBadRequest, "bad_request", "by must be signup_month or channel", nil)
			}
		}
		b, err := books.get(c, s, report)
		if err != nil {
			return err
		}
		r, err := serving.MetricsRange(b, months[0], months[1])
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_request", err.Error(), nil)
		}
		res, err := serving.Metrics(b, report, r, by)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, res)
	}
}

// get returns the book of report, read from the store when the cached
// one is older than metricsTTL.
func (m *metricsBooks) get(c echo.Context, s *Server, report serving.MetricsReport) (*saas.Book, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cb := m.books[report]; cb != nil && time.Since(cb.at) < metricsTTL {
		return cb.book, nil
	}
	b, err := serving.LoadBook(c.Request().Context(), s.store, s.opts.Metrics, report)
	if err != nil {
		return nil, err
	}
	m.books[report] = &cachedBook{book: b, at: time.Now()}
	return b, nil
}
