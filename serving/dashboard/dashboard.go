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
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/store"
)

// Store is what the dashboard reads and writes.
type Store interface {
	serving.SaaSStore
	Account(ctx context.Context, id string) (*features.Account, error)
	History(ctx context.Context, accountID string) (*features.History, error)
	CurrentScore(ctx context.Context, accountID, task string) (store.Score, error)
	ScoreHistory(ctx context.Context, accountID, task string, limit int) ([]store.Score, error)
	ScoreRows(ctx context.Context, q store.ScoreListQuery) ([]store.ScoreRow, error)
	HealthTrends(ctx context.Context, task string, accountIDs []string, n int) (map[string][]store.HealthPoint, error)
	RiskByBand(ctx context.Context, task string) ([]store.BandTotal, error)
	Facets(ctx context.Context, task string) (owners, segments []string, err error)
	Alerts(ctx context.Context, q store.AlertQuery) ([]store.Alert, error)
	AcknowledgeAlert(ctx context.Context, id string, at time.Time) (store.Alert, error)
	ResolveAlert(ctx context.Context, id string, at time.Time) (store.Alert, error)
	Models(ctx context.Context, task string) ([]store.Model, error)
	Model(ctx context.Context, version int64) (*store.Model, error)
	ActivateModel(ctx context.Context, version int64) (*store.Model, error)
}

// Keys verifies API keys; *api.Server does, with the API's own key cache.
type Keys interface {
	VerifyKey(ctx context.Context, key string) (store.APIKey, bool, error)
}

// Options configure the dashboard.
type Options struct {
	// Bands are the health thresholds the charts mark; zero means the
	// defaults.
	Bands  serving.Bands
	Logger *slog.Logger
	// PortfolioTTL is how long the portfolio's figures are reused; zero
	// means a minute.
	PortfolioTTL time.Duration
	// Metrics configures the metrics page's reports (key features for
	// trial activation).
	Metrics saas.Options
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
	if opts.PortfolioTTL == 0 {
		opts.PortfolioTTL = time.Minute
	}
	d := &Dashboard{store: s, keys: keys, opts: opts, log: opts.Logger, secret: make([]byte, 32), pages: map[string]*template.Template{}}
	if d.log == nil {
		d.log = slog.Default()
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

	viewer, admin := d.session(api.RoleViewer), d.session(api.RoleAdmin)
	e.GET("/", d.accounts, viewer)
	e.GET("/accounts", d.accounts, viewer)
	e.GET("/accounts/:id", d.account, viewer)
	e.GET("/trials", d.trials, viewer)
	e.GET("/alerts", d.alerts, viewer)
	e.POST("/alerts/:id/ack", d.alertAction, viewer)
	e.POST("/alerts/:id/resolve", d.alertAction, viewer)
	e.GET("/models", d.models, viewer)
	e.GET("/models/:version/report", d.modelReport, viewer)
	e.POST("/models/:version/activate", d.activate, admin)
	e.GET("/portfolio", d.portfolioPage, viewer)
}

// Mount builds the dashboard and mounts it on the API server srv, whose
// key check sign-in reuses.
func Mount(srv *api.Server, s Store, opts Options) error {
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
func (d *Dashboard) session(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var key store.APIKey
			ok := false
			if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
				if key, ok, err = d.keys.VerifyKey(c.Request().Context(), ck.Value); err != nil {
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
			if !api.Allows(key.Role, role) {
				return d.errorPage(c, http.StatusForbidden, "This needs the "+role+" role; your key has the "+key.Role+" role.")
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

func (d *Dashboard) signinForm(c echo.Context) error {
	return d.render(c, http.StatusOK, "signin", "Sign in", signinView{Next: safeNext(c.QueryParam("next"))})
}

type signinView struct {
	Next, Error string
}

func (d *Dashboard) signin(c echo.Context) error {
	next := safeNext(c.FormValue("next"))
	presented := strings.TrimSpace(c.FormValue("key"))
	_, ok, err := d.keys.VerifyKey(c.Request().Context(), presented)
	if err != nil {
		return d.fail(c, err)
	}
	if presented == "" || !ok {
		return d.render(c, http.StatusUnauthorized, "signin", "Sign in", signinView{Next: next, Error: "That key is unknown or revoked."})
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: presented, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.IsTLS()})
	return c.Redirect(http.StatusSeeOther, next)
}

func (d *Dashboard) signout(c echo.Context) error {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.IsTLS()})
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// page is what the layout shows around every page's content.
type page struct {
	Title string
	Nav   string
	Key   *store.APIKey
	Admin bool
	CSRF  string
	Data  any
}

// render executes the page template name into a buffer first, so that a
// failing template yields an error page rather than half a page.
func (d *Dashboard) render(c echo.Context, status int, name, title string, data any) error {
	p := page{Title: title, Nav: name, Data: data}
	if k, ok := c.Get(keyContext).(store.APIKey); ok {
		p.Key, p.Admin, p.CSRF = &k, api.Allows(k.Role, api.RoleAdmin), d.token(c)
	}
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		d.log.ErrorContext(c.Request().Context(), "rendering page", "page", name, "err", err)
		return c.String(http.StatusInternalServerError, "internal error rendering "+name)
	}
	return c.HTMLBlob(status, buf.Bytes())
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
	case errors.Is(err, store.ErrNoAccount), errors.Is(err, store.ErrNoAlert), errors.Is(err, store.ErrModelNotFound):
		return d.errorPage(c, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrAlertState):
		return d.errorPage(c, http.StatusConflict, err.Error())
	case errors.Is(err, errBadRequest):
		return d.errorPage(c, http.StatusBadRequest, err.Error())
	}
	d.log.ErrorContext(c.Request().Context(), "dashboard request failed", "path", c.Request().URL.Path, "err", err)
	return d.errorPage(c, http.StatusInternalServerError, "Something went wrong reading the store; the server log has the details.")
}

// errBadRequest marks errors caused by a request's parameters.
var errBadRequest = errors.New("bad request")
