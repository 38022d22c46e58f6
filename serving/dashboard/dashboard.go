package dashboard

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/serving/today"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/trainer"
)

// Store is what the dashboard reads and writes.
type Store interface {
	serving.SaaSStore
	today.Store
	Account(ctx context.Context, id string) (*features.Account, error)
	History(ctx context.Context, accountID string) (*features.History, error)
	CurrentScore(ctx context.Context, accountID, task string) (score.Score, error)
	ScoreHistory(ctx context.Context, accountID, task string, limit int) ([]score.Score, error)
	ScoreRows(ctx context.Context, q score.ListQuery) ([]score.Row, error)
	HealthTrends(ctx context.Context, task string, accountIDs []string, n int) (map[string][]score.HealthPoint, error)
	RiskByBand(ctx context.Context, task string) ([]score.BandTotal, error)
	Facets(ctx context.Context, task string) (owners, segments []string, err error)
	Alerts(ctx context.Context, q alerts.Query) ([]alerts.Row, error)
	ActOnAlerts(ctx context.Context, ids []string, act alerts.Action) ([]string, error)
	AlertActions(ctx context.Context, accountID, alertID string, limit int) ([]alerts.Action, error)
	Models(ctx context.Context, task string) ([]trainer.RegisteredModel, error)
	Model(ctx context.Context, version int64) (*trainer.RegisteredModel, error)
	ActivateModel(ctx context.Context, version int64) (*trainer.RegisteredModel, error)
	Extent(ctx context.Context) (trainer.Extent, error)
	Freshness(ctx context.Context) (asOf, scoredAt time.Time, err error)
}

// Keys verifies API keys presented by the client at an address; *api.Server
// does, with the API's own key cache and throttle of failed attempts.
type Keys interface {
	VerifyKey(ctx context.Context, addr, key string) (access.Key, bool, error)
}

// Options configure the dashboard.
type Options struct {
	// Bands are the health thresholds the charts mark; zero means the
	// defaults.
	Bands  serving.Bands
	Logger *slog.Logger
	// Plays are the next steps the account page suggests for reasons;
	// nil suggests none.
	Plays serving.Plays
	// TrialTiers rank the trials worklist; zero means warm from half the
	// PQL threshold.
	TrialTiers serving.TrialTiers
	// PortfolioTTL is how long the portfolio's figures are reused; zero
	// means a minute.
	PortfolioTTL time.Duration
	// Metrics configures the metrics page's reports (key features for
	// trial activation).
	Metrics saas.Options
	// Rules are the alert rules the inbox filters by; nil means the
	// defaults.
	Rules alerts.Rules
	// Pages caches the rendered accounts listing; Mount uses the API
	// server's (api.Server.Cached), and nil renders every request.
	Pages PageCache
}

// PageCache keeps rendered pages by key; build renders one on a miss and
// may run after the request has been answered. *api.Server is one.
type PageCache interface {
	Cached(ctx context.Context, key string, build func(context.Context) ([]byte, error)) ([]byte, error)
}

// Dashboard serves the pages.
type Dashboard struct {
	store  Store
	keys   Keys
	opts   Options
	log    *slog.Logger
	secret []byte
	pages  map[string]*template.Template

	facetsMu sync.Mutex
	facets   facetCache

	freshMu sync.Mutex
	fresh   freshness

	portfolioMu sync.Mutex
	portfolio   *portfolioView
	portfolioAt time.Time
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// sessionCookie holds the signed-in API key.
const sessionCookie = "churn_session"

// New returns a Dashboard on s whose sign-in checks keys with keys.
func New(s Store, keys Keys, opts Options) (*Dashboard, error) {
	if opts.Bands == (serving.Bands{}) {
		opts.Bands = serving.DefaultBands()
	}
	if opts.TrialTiers.Warm == 0 {
		opts.TrialTiers.Warm = 0.5
	}
	if opts.PortfolioTTL == 0 {
		opts.PortfolioTTL = time.Minute
	}
	if opts.Rules == nil {
		opts.Rules = alerts.DefaultRules()
	}
	d := &Dashboard{store: s, keys: keys, opts: opts, log: opts.Logger, secret: make([]byte, 32), pages: map[string]*template.Template{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if _, err := rand.Read(d.secret); err != nil {
		return nil, err
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if page == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, name)
		if err != nil {
			return nil, err
		}
		d.pages[page] = t
	}
	return d, nil
}

// Mount adds the dashboard's routes to e: the pages at /, the sign-in
// form at /signin and the assets under /static/.
func (d *Dashboard) Mount(e *echo.Echo) {
	static, _ := fs.Sub(staticFiles, "static")
	assets := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	e.GET("/static/*", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		assets.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	e.GET("/signin", d.signinForm)
	e.POST("/signin", d.signin)
	e.POST("/signout", d.signout)

	viewer, admin := d.session(access.Viewer), d.session(access.Admin)
	e.GET("/", d.home, viewer)
	e.GET("/today", d.today, viewer)
	e.GET("/accounts", d.accounts, viewer)
	e.GET("/accounts/:id", d.account, viewer)
	e.GET("/trials", d.trials, viewer)
	e.GET("/alerts", d.alerts, viewer)
	e.POST("/alerts/ack", d.bulkAck, viewer)
	e.POST("/alerts/:id/ack", d.alertAction, viewer)
	e.POST("/alerts/:id/snooze", d.alertAction, viewer)
	e.POST("/alerts/:id/resolve", d.alertAction, viewer)
	e.GET("/models", d.models, viewer)
	e.GET("/models/:version/report", d.modelReport, viewer)
	e.POST("/models/:version/activate", d.activate, admin)
	e.GET("/portfolio", d.portfolioPage, viewer)
}

// Mount builds the dashboard and mounts it on the API server srv, whose
// key check sign-in reuses.
func Mount(srv *api.Server, s Store, opts Options) error {
	if opts.Pages == nil {
		opts.Pages = srv
	}
	d, err := New(s, srv, opts)
	if err != nil {
		return err
	}
	d.Mount(srv.Echo())
	return nil
}

// keyContext is where the signed-in key is kept in echo's context.
const keyContext = "dashboard_key"

// session checks the session cookie's key and its role. A request without
// a valid key is sent to the sign-in form, which brings it back; one whose
// key lacks the role gets a 403 page.
func (d *Dashboard) session(role access.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var key access.Key
			ok := false
			if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
				if key, ok, err = d.keys.VerifyKey(c.Request().Context(), c.RealIP(), ck.Value); err != nil {
					return d.fail(c, err)
				}
			}
			if !ok {
				if c.Request().Method != http.MethodGet {
					return d.errorPage(c, http.StatusUnauthorized, "Your session has ended. Sign in again and retry.")
				}
				return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			c.Set(keyContext, key)
			if !key.Role.Allows(role) {
				return d.errorPage(c, http.StatusForbidden, "This needs the "+string(role)+" role; your key has the "+string(key.Role)+" role.")
			}
			if c.Request().Method == http.MethodPost && !d.validToken(c) {
				return d.errorPage(c, http.StatusForbidden, "The form has expired or did not come from this dashboard. Reload the page and try again.")
			}
			c.Response().Header().Set("Cache-Control", "no-store")
			return next(c)
		}
	}
}

// token is the anti-forgery token of a session: an HMAC of its cookie, so
// it changes with the key and cannot be made without the server's secret.
func (d *Dashboard) token(c echo.Context) string {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	m := hmac.New(sha256.New, d.secret)
	m.Write([]byte("csrf\x00" + ck.Value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *Dashboard) validToken(c echo.Context) bool {
	want := d.token(c)
	return want != "" && hmac.Equal([]byte(c.FormValue("csrf")), []byte(want))
}

// safeNext returns next when it is a path on this site, else "/": the
// sign-in and action redirects must not send anyone elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

// signinCookie holds the random nonce the sign-in form's token is made
// from: a double-submit token, since there is no session yet to tie one to.
const signinCookie = "churn_signin"

// signinToken returns the sign-in form's anti-forgery token for nonce.
func (d *Dashboard) signinToken(nonce string) string {
	m := hmac.New(sha256.New, d.secret)
	m.Write([]byte("signin\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *Dashboard) signinForm(c echo.Context) error {
	return d.renderSignin(c, http.StatusOK, signinView{Next: safeNext(c.QueryParam("next"))})
}

// renderSignin renders the sign-in form with a fresh token, its nonce set
// in a cookie only this site's forms send back.
func (d *Dashboard) renderSignin(c echo.Context, status int, v signinView) error {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return d.fail(c, err)
	}
	n := base64.RawURLEncoding.EncodeToString(nonce[:])
	c.SetCookie(&http.Cookie{Name: signinCookie, Value: n, Path: "/signin", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.IsTLS()})
	v.CSRF = d.signinToken(n)
	c.Response().Header().Set("Cache-Control", "no-store")
	return d.render(c, status, "signin", "Sign in", v)
}

type signinView struct {
	Next, Error, CSRF string
}

// sameSite reports whether a form post came from this site: its Origin,
// or failing that its Referer, names the host the request was sent to.
// Browsers send at least one of them with every form post.
func sameSite(c echo.Context) bool {
	from := c.Request().Header.Get("Origin")
	if from == "" || from == "null" {
		from = c.Request().Referer()
	}
	u, err := url.Parse(from)
	return err == nil && from != "" && u.Host == c.Request().Host && (u.Scheme == "http" || u.Scheme == "https")
}

func (d *Dashboard) signin(c echo.Context) error {
	next := safeNext(c.FormValue("next"))
	ck, err := c.Cookie(signinCookie)
	if !sameSite(c) || err != nil || ck.Value == "" ||
		!hmac.Equal([]byte(c.FormValue("csrf")), []byte(d.signinToken(ck.Value))) {
		return d.renderSignin(c, http.StatusForbidden, signinView{Next: next,
			Error: "The form expired or did not come from this dashboard. Sign in again."})
	}
	presented := strings.TrimSpace(c.FormValue("key"))
	_, ok, err := d.keys.VerifyKey(c.Request().Context(), c.RealIP(), presented)
	var throttled *api.ThrottledError
	switch {
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", strconv.Itoa(throttled.Seconds()))
		return d.renderSignin(c, http.StatusTooManyRequests, signinView{Next: next, Error: "Too many failed sign-ins from your address. Wait a minute and try again."})
	case err != nil:
		return d.fail(c, err)
	case !ok:
		return d.renderSignin(c, http.StatusUnauthorized, signinView{Next: next, Error: "That key is unknown or revoked."})
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: presented, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.IsTLS()})
	return c.Redirect(http.StatusSeeOther, next)
}

// signout ends the session; like every other post it needs the session's
// token and this site's Origin, so that no other site can sign anyone out.
func (d *Dashboard) signout(c echo.Context) error {
	if !sameSite(c) || !d.validToken(c) {
		return d.errorPage(c, http.StatusForbidden, "The form did not come from this dashboard. Reload the page and try again.")
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.IsTLS()})
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// page is what the layout shows around every page's content.
type page struct {
	Title string
	Nav   string
	Key   *access.Key
	Admin bool
	CSRF  string
	// Fresh says how current the data and the scores are.
	Fresh string
	Data  any
}

// render executes the page template name into a buffer first, so that a
// failing template yields an error page rather than half a page.
func (d *Dashboard) render(c echo.Context, status int, name, title string, data any) error {
	p := d.pageFor(c, name, title)
	p.Data = data
	body, err := d.execute(c.Request().Context(), p)
	if err != nil {
		return c.String(http.StatusInternalServerError, "internal error rendering "+name)
	}
	return c.HTMLBlob(status, body)
}

// pageFor returns the frame of page name for the signed-in key of c,
// without its data and freshness line.
func (d *Dashboard) pageFor(c echo.Context, name, title string) page {
	p := page{Title: title, Nav: name}
	if k, ok := c.Get(keyContext).(access.Key); ok {
		p.Key, p.Admin, p.CSRF = &k, k.Role.Allows(access.Admin), d.token(c)
	}
	return p
}

// execute renders p, with the freshness line for a signed-in key; a
// template's failure is logged.
func (d *Dashboard) execute(ctx context.Context, p page) ([]byte, error) {
	if p.Key != nil {
		p.Fresh = d.freshness(ctx)
	}
	var buf bytes.Buffer
	if err := d.pages[p.Nav].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		d.log.ErrorContext(ctx, "rendering page", "page", p.Nav, "err", err)
		return nil, fmt.Errorf("rendering the %s page: %w", p.Nav, err)
	}
	return buf.Bytes(), nil
}

// errorPage answers with status and a message a person can act on.
func (d *Dashboard) errorPage(c echo.Context, status int, msg string) error {
	return d.render(c, status, "error", http.StatusText(status), errorView{Status: status, Message: msg})
}

type errorView struct {
	Status  int
	Message string
}

// fail answers err as an error page: the store's "no such" errors are 404s
// and state conflicts 409s; anything else is logged and answered without
// its text, which may hold internals.
func (d *Dashboard) fail(c echo.Context, err error) error {
	switch {
	case errors.Is(err, store.ErrNoAccount), errors.Is(err, store.ErrNoAlert), errors.Is(err, trainer.ErrModelNotFound):
		return d.errorPage(c, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrAlertState):
		return d.errorPage(c, http.StatusConflict, err.Error())
	case errors.Is(err, errBadRequest):
		return d.errorPage(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, errUnprocessable):
		return d.errorPage(c, http.StatusUnprocessableEntity, err.Error())
	case store.Unavailable(err):
		d.log.WarnContext(c.Request().Context(), "store unavailable", "path", c.Request().URL.Path, "err", err)
		c.Response().Header().Set("Retry-After", "5")
		return d.errorPage(c, http.StatusServiceUnavailable, "The store cannot answer right now. Retry in a few seconds.")
	}
	d.log.ErrorContext(c.Request().Context(), "dashboard request failed", "path", c.Request().URL.Path, "err", err)
	return d.errorPage(c, http.StatusInternalServerError, "Something went wrong reading the store; the server log has the details.")
}

// errBadRequest marks errors caused by a request's parameters, and
// errUnprocessable those of a form's values that parse but cannot be
// taken (a snooze that ends in the past).
var (
	errBadRequest    = errors.New("bad request")
	errUnprocessable = errors.New("cannot be done")
)

// freshness is the freshness line, the current scores' latest as-of time
// it states, and when they were read.
type freshness struct {
	at   time.Time
	line string
	asOf time.Time
}

// freshness says how current the pages are ("Data through 2025-01-01;
// scores as of 2025-01-01, scored 2025-01-01 02:00 UTC"). A failing read
// is logged and leaves the line out.
func (d *Dashboard) freshness(ctx context.Context) string {
	f, err := d.readFreshness(ctx)
	if err != nil {
		d.log.ErrorContext(ctx, "reading the freshness", "err", err)
	}
	return f.line
}

// readFreshness reads the data's extent and the scores' freshness at most
// every 30 seconds.
func (d *Dashboard) readFreshness(ctx context.Context) (freshness, error) {
	d.freshMu.Lock()
	defer d.freshMu.Unlock()
	if time.Since(d.fresh.at) < 30*time.Second {
		return d.fresh, nil
	}
	ext, err := d.store.Extent(ctx)
	if err != nil {
		return freshness{}, fmt.Errorf("reading the data's extent: %w", err)
	}
	asOf, scoredAt, err := d.store.Freshness(ctx)
	if err != nil {
		return freshness{}, fmt.Errorf("reading the scores' freshness: %w", err)
	}
	d.fresh = freshness{at: time.Now(), line: freshnessLine(ext.Last, asOf, scoredAt), asOf: asOf}
	return d.fresh, nil
}

// freshnessLine words the data's latest time and the current scores'
// latest as-of and scoring times.
func freshnessLine(dataThrough, asOf, scoredAt time.Time) string {
	var parts []string
	if !dataThrough.IsZero() {
		parts = append(parts, "Data through "+dataThrough.UTC().Format(time.DateOnly))
	}
	if asOf.IsZero() {
		parts = append(parts, "no scores yet")
	} else {
		parts = append(parts, "scores as of "+asOf.UTC().Format(time.DateOnly)+", scored "+scoredAt.UTC().Format("2006-01-02 15:04")+" UTC")
	}
	return strings.Join(parts, "; ")
}
