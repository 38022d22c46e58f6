package api

import (
	"context"
	_ "embed"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/serving/today"
	"github.com/openchurn/churn/training/trainer"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the embedded OpenAPI 3 document served at /openapi.yaml.
func OpenAPI() []byte { return openAPI }

// Store is everything the handlers read and write.
type Store interface {
	KeyStore
	OutboxStore
	serving.IngestStore
	serving.SaaSStore
	alerts.AlertStore
	today.Store
	Ping(ctx context.Context) error
	CreateAPIKey(ctx context.Context, k access.Key) error
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	History(ctx context.Context, accountID string) (*features.History, error)
	CurrentScore(ctx context.Context, accountID, task string) (score.Score, error)
	Freshness(ctx context.Context) (asOf, scoredAt time.Time, err error)
	LatestScoredAt(ctx context.Context) (time.Time, error)
	ScoreHistory(ctx context.Context, accountID, task string, limit int) ([]score.Score, error)
	ScoreRows(ctx context.Context, q score.ListQuery) ([]score.Row, error)
	Alerts(ctx context.Context, q alerts.Query) ([]alerts.Row, error)
	Alert(ctx context.Context, id string) (alerts.Alert, error)
	ActOnAlerts(ctx context.Context, ids []string, act alerts.Action) ([]string, error)
	AlertActions(ctx context.Context, accountID, alertID string, limit int) ([]alerts.Action, error)
	Models(ctx context.Context, task string) ([]trainer.RegisteredModel, error)
	ActivateModel(ctx context.Context, version int64) (*trainer.RegisteredModel, error)
	LoadWith(ctx context.Context, t features.Table, src load.Source, opts load.Options) (load.Result, error)
}

// Options configure a Server.
type Options struct {
	// RatePerSecond and Burst bound each key's requests; 0 disables the
	// limit.
	RatePerSecond float64
	Burst         int
	// BodyLimit bounds request bodies, e.g. "32M"; empty means 32M.
	BodyLimit string
	// AccessLog logs every request at info level.
	AccessLog bool
	Logger    *slog.Logger
	// KeyRefresh is how often keys are re-read; zero means 5 s.
	KeyRefresh time.Duration
	// StaleAfter, when positive, makes reads rescore on demand an account
	// whose stored score is older than this.
	StaleAfter time.Duration
	// AuthFailuresPerMinute and AuthFailureBurst throttle failed
	// authentications (no key, an unknown or revoked key) per client
	// address: past Burst failures an address gets 429 with Retry-After
	// until its bucket refills at the rate. Zero means the defaults (10 a
	// minute, bursts of 20); a negative rate disables the throttle.
	AuthFailuresPerMinute float64
	AuthFailureBurst      int
	// TrustForwardedFor takes the client address from X-Forwarded-For, as
	// set by a reverse proxy in front of the server; otherwise it is the
	// connection's peer, and such headers are ignored, so that a client
	// cannot pick the address its failures count against.
	TrustForwardedFor bool
	// CacheTTL is how long a rendered view (an account, a trial, a page
	// of a listing, a dashboard listing) is reused; zero means 30 s,
	// negative disables the cache. Writes through this server clear it at
	// once, and a batch run by another process (churnctl score) within
	// about ScoresPoll, so the TTL only bounds how long other changes made
	// elsewhere (accounts loaded, alerts acted on through another server)
	// take to show; rebuilding views every few seconds is what set the
	// tail latency under load.
	CacheTTL time.Duration
	// ScoresPoll is how often the server checks, in the background, whether
	// the stored scores changed (a batch run by another process), and then
	// clears the cached views and listings; zero means 1 s, negative
	// disables the check, leaving CacheTTL as the only bound.
	ScoresPoll time.Duration
	// Features configures the catalog that /v1/features serves while no
	// churn model is active; an active model serves its own.
	Features features.Config
	// Metrics configures the /v1/metrics reports: gross margin, key
	// features, catalogue size.
	Metrics saas.Options
}

// Server is the REST API.
type Server struct {
	e        *echo.Echo
	store    Store
	scorer   *serving.Scorer
	alerts   *alerts.Engine
	opts     Options
	log      *slog.Logger
	keys     *keyring
	throttle *authThrottle
	metrics  *metrics
	views    *viewCache
	// pages caches the dashboard's rendered listings (Cached), apart from
	// the views, since a page weighs as much as many views.
	pages *viewCache
	watch *scoreWatch
}

// maxPages bounds the pages cached by Cached.
const maxPages = 2000

// New returns a Server on s. scorer serves on-demand scoring and the
// models' serving figures; eng raises ingestion-time alerts and may be nil.
func New(s Store, scorer *serving.Scorer, eng *alerts.Engine, opts Options) *Server {
	if opts.BodyLimit == "" {
		opts.BodyLimit = "32M"
	}
	if opts.KeyRefresh == 0 {
		opts.KeyRefresh = 5 * time.Second
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 30 * time.Second
	}
	if opts.ScoresPoll == 0 {
		opts.ScoresPoll = time.Second
	}
	if opts.AuthFailuresPerMinute == 0 {
		opts.AuthFailuresPerMinute = DefaultAuthFailuresPerMinute
	}
	if opts.AuthFailureBurst == 0 {
		opts.AuthFailureBurst = DefaultAuthFailureBurst
	}
	srv := &Server{store: s, scorer: scorer, alerts: eng, opts: opts, log: opts.Logger,
		keys: &keyring{store: s, refresh: opts.KeyRefresh}, metrics: newMetrics(), views: newViewCache(opts.CacheTTL, 100_000),
		pages: newViewCache(opts.CacheTTL, maxPages), throttle: newAuthThrottle(opts.AuthFailuresPerMinute, opts.AuthFailureBurst)}
	srv.metrics.registry.MustRegister(newOutboxCollector(s))
	if srv.log == nil {
		srv.log = slog.New(slog.DiscardHandler)
	}
	srv.watch = &scoreWatch{poll: opts.ScoresPoll, stamp: s.LatestScoredAt, clear: srv.clearCaches,
		log: func(err error) { srv.log.Warn("checking the stored scores for a new batch", "err", err) }}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = srv.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if opts.TrustForwardedFor {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(middleware.RequestID(), srv.observe, srv.recover, middleware.BodyLimit(opts.BodyLimit), checkParams, srv.clearOnWrite)

	e.GET("/healthz", srv.healthz)
	e.GET("/readyz", srv.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(srv.metrics.registry, promhttp.HandlerOpts{})))
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", openAPI) })

	viewer, ingest, admin := srv.authenticate(access.Viewer), srv.authenticate(access.Ingest), srv.authenticate(access.Admin)
	v1 := e.Group("/v1")
	v1.GET("/accounts", srv.listAccounts, viewer)
	v1.GET("/accounts/:id", srv.getAccount, viewer)
	v1.POST("/score", srv.score, viewer)
	v1.GET("/trials", srv.listTrials, viewer)
	v1.GET("/trials/:id", srv.getTrial, viewer)
	v1.GET("/today", srv.today, viewer)
	v1.GET("/alerts", srv.listAlerts, viewer)
	v1.POST("/alerts/ack", srv.ackAlerts, viewer)
	v1.GET("/alerts/:id", srv.getAlert, viewer)
	v1.POST("/alerts/:id/ack", srv.ackAlert, viewer)
	v1.POST("/alerts/:id/snooze", srv.snoozeAlert, viewer)
	v1.POST("/alerts/:id/resolve", srv.resolveAlert, viewer)
	v1.GET("/features", srv.listFeatures, viewer)
	v1.GET("/metrics/saas", srv.saasMetrics, viewer)
	srv.mountMetrics(v1, viewer)
	v1.POST("/ingest/:table", srv.ingest, ingest)
	v1.GET("/models", srv.listModels, viewer)
	v1.POST("/models/:version/activate", srv.activateModel, admin)
	v1.GET("/keys", srv.listKeys, admin)
	v1.POST("/keys", srv.createKey, admin)
	v1.DELETE("/keys/:id", srv.revokeKey, admin)
	v1.GET("/deliveries", srv.listDeliveries, admin)
	v1.POST("/deliveries/:id/retry", srv.retryDelivery, admin)
	e.RouteNotFound("/*", func(c echo.Context) error {
		return errorf(http.StatusNotFound, "not_found", "no such endpoint: "+c.Request().Method+" "+c.Request().URL.Path+"; see /openapi.yaml", nil)
	})
	srv.e = e
	return srv
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.e }

// clearOnWrite drops the cached views after any request that may have
// changed what they show.
func (s *Server) clearOnWrite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead && c.Path() != "/v1/score" {
			s.clearCaches()
		}
		return err
	}
}

// clearCaches drops the cached views and pages.
func (s *Server) clearCaches() {
	s.views.clear()
	s.pages.clear()
}

// recover turns a panic in a handler into a 500, so that no input can take
// the server down; the panic is logged with the request id.
func (s *Server) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.ErrorContext(c.Request().Context(), "handler panicked", "request_id", requestID(c), "panic", r)
				err = errors.New("handler panicked")
			}
		}()
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 503 while the store does not answer within 2 s.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return errorf(http.StatusServiceUnavailable, "store_unavailable", "the store is unreachable", nil)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
