package api

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// outageRoutes are requests to every route that reads or writes the
// store, each valid, so that only the outage can fail them.
var outageRoutes = []struct{ method, path, body string }{
	{"GET", "/readyz", ""},
	{"GET", "/v1/accounts", ""},
	{"GET", "/v1/accounts/a1", ""},
	{"GET", "/v1/trials", ""},
	{"GET", "/v1/trials/a1", ""},
	{"POST", "/v1/score", `{"account_ids":["a1"]}`},
	{"GET", "/v1/alerts", ""},
	{"GET", "/v1/alerts/al_1", ""},
	{"POST", "/v1/alerts/ack", `{"ids":["al_1","al_2"]}`},
	{"POST", "/v1/alerts/al_1/ack", ""},
	{"POST", "/v1/alerts/al_1/snooze", `{"until":"` + time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly) + `"}`},
	{"POST", "/v1/alerts/al_1/resolve", `{"note":"done"}`},
	{"GET", "/v1/metrics/saas", ""},
	{"POST", "/v1/ingest/accounts", `{"account_id":"a2","created_at":"2024-01-01"}`},
	{"GET", "/v1/models", ""},
	{"POST", "/v1/models/1/activate", ""},
	{"GET", "/v1/keys", ""},
	{"POST", "/v1/keys", `{"role":"viewer","name":"x"}`},
	{"DELETE", "/v1/keys/key_1", ""},
	{"GET", "/v1/deliveries?status=dead", ""},
	{"POST", "/v1/deliveries/dl_1/retry", ""},
}

// outageServer serves s with an admin key that is already cached, so the
// requests reach their handlers, and a second server with no key cache,
// so that they fail at the key lookup.
func outageServers(t *testing.T, s *store.Store) (cached, uncached *client, key string) {
	t.Helper()
	ctx := context.Background()
	key, rec, err := access.NewKey(access.Admin, "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, rec); err != nil {
		t.Fatal(err)
	}
	scorer := &serving.Scorer{Registry: s, Reference: s, Bands: serving.DefaultBands()}
	logger := slog.New(slog.DiscardHandler)
	var clients []*client
	for _, refresh := range []time.Duration{time.Hour, time.Nanosecond} {
		srv := httptest.NewServer(New(s, scorer, nil, Options{Logger: logger, KeyRefresh: refresh, CacheTTL: -1}).Handler())
		t.Cleanup(srv.Close)
		c := newClient(t, srv.URL)
		if code, body := c.do("GET", "/v1/accounts", key, nil); code != 200 {
			t.Fatalf("before the outage: %d %v", code, body)
		}
		clients = append(clients, c)
	}
	return clients[0], clients[1], key
}

// expectOutage checks that every route answers 503 store_unavailable with
// a Retry-After while the store is down.
func expectOutage(t *testing.T, c *client, key string) {
	t.Helper()
	for _, r := range outageRoutes {
		var body any
		if r.body != "" {
			body = r.body
		}
		code, out, hdr := c.doHeader(r.method, r.path, key, body)
		e, _ := out["error"].(map[string]any)
		if code != 503 || e["code"] != "store_unavailable" || hdr.Get("Retry-After") == "" {
			t.Errorf("%s %s while the store is down: %d, Retry-After %q, %v", r.method, r.path, code, hdr.Get("Retry-After"), out)
		}
	}
}

// TestStoreClosed answers 503 on every route of a store whose database is
// closed, on both stores, both in the handlers and at the key lookup.
func TestStoreClosed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		cached, uncached, key := outageServers(t, s)
		s.Close()
		expectOutage(t, cached, key)
		expectOutage(t, uncached, key)
	})
}

// TestPostgresDown answers 503 while the PostgreSQL server cannot be
// reached, and serves again once it can.
func TestPostgresDown(t *testing.T) {
	dsn := storetest.DSN(t, "postgres")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	ctx := context.Background()
	s, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cached, uncached, key := outageServers(t, s)
	p.stop()
	expectOutage(t, cached, key)
	expectOutage(t, uncached, key)
	p.start(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := cached.do("GET", "/v1/accounts", key, nil)
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the outage: %d %v", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proxy forwards TCP connections to a server until stopped, which
// refuses new connections and breaks open ones, as a crashed server does.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target}
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestBadPathAndBody answers 4xx, never 500, to a NUL in a path or query
// and says the limit of a body that exceeds it, on both stores.
func TestBadPathAndBody(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		cached, _, key := outageServers(t, s)
		for _, path := range []string{"/v1/accounts/%00", "/v1/trials/a%00b", "/v1/alerts?owner=%00", "/v1/alerts?account_id=%ff",
			"/v1/accounts/" + strings.Repeat("x", 300), "/v1/alerts/%00/ack"} {
			method := "GET"
			if strings.HasSuffix(path, "/ack") {
				method = "POST"
			}
			code, body := cached.do(method, path, key, nil)
			if code < 400 || code >= 500 {
				t.Errorf("%s %s: %d %v", method, path, code, body)
			}
		}
		srv := httptest.NewServer(New(s, nil, nil, Options{Logger: slog.New(slog.DiscardHandler), BodyLimit: "1K"}).Handler())
		defer srv.Close()
		c := newClient(t, srv.URL)
		code, body := c.do("POST", "/v1/ingest/accounts", key, strings.Repeat(" ", 2048))
		e, _ := body["error"].(map[string]any)
		if msg, _ := e["message"].(string); code != 413 || !strings.Contains(msg, "1K") {
			t.Errorf("a body over the limit: %d %v", code, body)
		}
	})
}

// TestClientGone logs a request whose client went away at debug level,
// not as an error, on both stores.
func TestClientGone(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		key, rec, _ := access.NewKey(access.Viewer, "v", time.Now())
		if err := s.CreateAPIKey(ctx, rec); err != nil {
			t.Fatal(err)
		}
		var logs recordingHandler
		h := New(s, nil, nil, Options{Logger: slog.New(&logs), KeyRefresh: time.Hour}).Handler()
		warm := httptest.NewRequest("GET", "/v1/accounts", nil)
		warm.Header.Set("Authorization", "Bearer "+key)
		h.ServeHTTP(httptest.NewRecorder(), warm)
		gone, cancel := context.WithCancel(ctx)
		cancel()
		req := httptest.NewRequest("GET", "/v1/alerts", nil).WithContext(gone)
		req.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if logs.count(slog.LevelError) > 0 || logs.count(slog.LevelDebug) != 1 || w.Code != 499 {
			t.Errorf("client gone: status %d, logs %v", w.Code, logs.records())
		}
	})
}

// recordingHandler keeps the log records it is given.
type recordingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) count(level slog.Level) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level {
			n++
		}
	}
	return n
}

func (h *recordingHandler) records() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		out = append(out, r.Level.String()+" "+r.Message)
	}
	return out
}
