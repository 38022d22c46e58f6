package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/store"
)

// syncBuffer is a bytes.Buffer safe to read while churnd writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var (
	urlRE    = regexp.MustCompile(`serving at (http://\S+)`)
	keyRE    = regexp.MustCompile(`CHURN_KEY=(churn_\S+)`)
	repKeyRE = regexp.MustCompile(`CHURN_REP_KEY=(churn_\S+)`)
)

// start runs churnd with args until it prints its URL, and returns the
// URL, the admin and rep keys it printed, its log, and a stop function
// that shuts it down and checks it exited 0.
func start(t *testing.T, args []string) (base, key, repKey string, log *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	log = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &out, log) }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("churnd %v exited %d before serving:\n%s", args, code, log.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("churnd %v did not serve within 90 s:\n%s", args, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := keyRE.FindStringSubmatch(out.String()); m != nil {
		key = m[1]
	}
	if m := repKeyRE.FindStringSubmatch(out.String()); m != nil {
		repKey = m[1]
	}
	return base, key, repKey, log, func() {
		t.Helper()
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("churnd exited %d after SIGTERM; log:\n%s", code, log.String())
		}
	}
}

func get(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// getJSON decodes the 200 answer of a GET of url into v.
func getJSON(t *testing.T, url, key string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// post sends body as JSON to url and returns the status.
func post(t *testing.T, url, key, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDemoFillsAnEmptyStoreOnce(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	args := []string{"--db", dsn, "--addr", "127.0.0.1:0", "--demo", "--demo-accounts", "300", "--demo-months", "12",
		"--demo-algo", "logreg", "--access-log=false"}

	base, key, repKey, log, stop := start(t, args)
	for _, path := range []string{"/readyz", "/v1/accounts?limit=3", "/v1/trials", "/v1/alerts", "/v1/models", "/v1/metrics/saas"} {
		if code := get(t, base+path, key); code != 200 {
			t.Errorf("GET %s: %d", path, code)
		}
	}
	// The rep key sees its owner's book by default, and may not write.
	if repKey == "" {
		t.Error("the demo printed no rep key")
	} else {
		var today struct {
			Owner string `json:"owner"`
		}
		getJSON(t, base+"/v1/today", repKey, &today)
		if today.Owner == "" || today.Owner == access.AllOwners {
			t.Errorf("/v1/today with the rep key: owner %q, want the rep's", today.Owner)
		}
		if code := post(t, base+"/v1/keys", repKey, `{"role":"viewer","name":"x"}`); code != 403 {
			t.Errorf("POST /v1/keys with the rep key: %d, want 403", code)
		}
	}
	for _, step := range []string{"step=data", `step="train churn"`, `step="train conversion"`, "step=score"} {
		if !strings.Contains(log.String(), step) {
			t.Errorf("no progress line for %s in the log:\n%s", step, log.String())
		}
	}
	stop()

	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Stats(context.Background())
	s.Close()
	if err != nil || first.Rows == 0 {
		t.Fatalf("after --demo the store holds %d rows (%v)", first.Rows, err)
	}

	base, key2, repKey2, log, stop := start(t, args)
	defer stop()
	for _, reused := range []string{"not simulating again", "not training again", "not scoring again"} {
		if !strings.Contains(log.String(), reused) {
			t.Errorf("second start did not say %q; log:\n%s", reused, log.String())
		}
	}
	if code := get(t, base+"/v1/accounts", key); code != 401 {
		t.Errorf("the first start's demo key after a restart: %d, want 401", code)
	}
	if code := get(t, base+"/v1/accounts", key2); code != 200 {
		t.Errorf("the new demo key: %d", code)
	}
	if code := get(t, base+"/v1/today", repKey); code != 401 || repKey2 == "" || get(t, base+"/v1/today", repKey2) != 200 {
		t.Errorf("after a restart the first rep key answers %d (want 401) and a new one was printed: %v", code, repKey2 != "")
	}
	s, err = store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if second, err := s.Stats(context.Background()); err != nil || second.Rows != first.Rows {
		t.Errorf("second start changed the row count from %d to %d (%v)", first.Rows, second.Rows, err)
	}
}

func TestRefusesToServeWithoutKey(t *testing.T) {
	var out, errOut bytes.Buffer
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "empty.db")
	if code := run(context.Background(), []string{"--db", dsn, "--addr", "127.0.0.1:0"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "no active API key") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestBadUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--no-such-flag"}, &out, &errOut); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if code := run(context.Background(), []string{"--config", "/no/such/churn.yaml"}, &out, &errOut); code != 2 {
		t.Errorf("missing config: exit status %d, want 2", code)
	}
	if code := run(context.Background(), []string{"--db", "mysql://x"}, &out, &errOut); code != 1 {
		t.Errorf("unknown store scheme: exit status %d, want 1", code)
	}
}
