package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// The outbox tests run against the store, which imports this package, so
// they live in the external test package.

var asOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// receiver records the signed payloads it accepts, by idempotency key.
type receiver struct {
	mu     sync.Mutex
	got    map[string]int
	secret []byte
	t      *testing.T
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !alerts.Verify(rc.secret, body, r.Header.Get(alerts.SignatureHeader)) {
		rc.t.Errorf("bad signature %q", r.Header.Get(alerts.SignatureHeader))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p alerts.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.Text == "" || p.IdempotencyKey != p.Alert.ID {
		rc.t.Errorf("payload %s: %v", body, err)
	}
	rc.mu.Lock()
	rc.got[p.IdempotencyKey]++
	rc.mu.Unlock()
}

func TestReceiverDownThenUpGetsEveryAlertOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := &clock{t: asOf}
		eng := &alerts.Engine{Store: s, Rules: alerts.DefaultRules(), Now: clk.Now}
		var ids []string
		for i := range 5 {
			h := &features.History{AccountID: fmt.Sprint("acc-", i), Account: &features.Account{Owner: "rep-1", Name: "Acme"},
				Escalations: []features.Escalation{{EscalationID: "e", Direction: "negative", Severity: "critical", At: asOf.Add(-time.Hour)}}}
			for range 2 { // the second raise is de-duplicated
				opened, err := eng.Raise(ctx, &alerts.Observation{AsOf: asOf, History: h}, true)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range opened {
					ids = append(ids, a.ID)
				}
			}
		}
		if len(ids) != 5 {
			t.Fatalf("opened %d alerts, want 5", len(ids))
		}

		// The receiver's address is reserved, then closed: it is down.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		secret := []byte("s3cret")
		wh := alerts.DefaultWebhook()
		wh.URL, wh.Secret, wh.Backoff, wh.Timeout = "http://"+addr+"/hook", string(secret), time.Minute, 2*time.Second
		d := &alerts.Dispatcher{Outbox: s, Webhook: wh, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)}
		for range 3 {
			delivered, failed, err := d.DeliverDue(ctx)
			if err != nil || delivered != 0 {
				t.Fatalf("while down: delivered %d, failed %d, %v", delivered, failed, err)
			}
			clk.Add(time.Hour)
		}

		// Up again on the same address.
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s again: %v", addr, err)
		}
		rc := &receiver{got: map[string]int{}, secret: secret, t: t}
		srv := httptest.NewUnstartedServer(rc)
		srv.Listener = ln
		srv.Start()
		defer srv.Close()
		delivered, _, err := d.DeliverDue(ctx)
		if err != nil || delivered != 5 {
			t.Fatalf("after coming up: delivered %d, %v", delivered, err)
		}
		clk.Add(24 * time.Hour)
		if delivered, _, err := d.DeliverDue(ctx); err != nil || delivered != 0 {
			t.Errorf("delivered %d again, %v", delivered, err)
		}
		for _, id := range ids {
			if rc.got[id] != 1 {
				t.Errorf("alert %s received %d times", id, rc.got[id])
			}
		}
		if len(rc.got) != len(ids) {
			t.Errorf("received %d distinct alerts, want %d", len(rc.got), len(ids))
		}
	})
}

func TestDeadLetter(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clk := &clock{t: asOf}
		eng := &alerts.Engine{Store: s, Rules: alerts.DefaultRules(), Now: clk.Now}
		h := &features.History{AccountID: "a", Escalations: []features.Escalation{{Direction: "negative", Severity: "high", At: asOf}}}
		if opened, err := eng.Raise(ctx, &alerts.Observation{AsOf: asOf.Add(time.Minute), History: h}, false); err != nil || len(opened) != 1 {
			t.Fatal(opened, err)
		}
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}))
		defer failing.Close()
		wh := alerts.DefaultWebhook()
		wh.URL, wh.MaxAttempts = failing.URL, 3
		d := &alerts.Dispatcher{Outbox: s, Webhook: wh, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)}
		for range 5 {
			if _, _, err := d.DeliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Add(2 * time.Hour)
		}
		dead, err := s.Deliveries(ctx, alerts.DeliveryDead, 10)
		if err != nil || len(dead) != 1 || dead[0].Attempts != 3 || !strings.Contains(dead[0].LastError, "503") {
			t.Errorf("dead letters = %+v, %v", dead, err)
		}
	})
}

// TestSettleResolvesWhatConcernsNoOne checks that Settle resolves every
// alert of a churned account and the trial alerts of a converted trial,
// and leaves the rest open.
func TestSettleResolvesWhatConcernsNoOne(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		eng := &alerts.Engine{Store: s, Rules: alerts.DefaultRules(), Now: func() time.Time { return asOf }}
		escalation := []features.Escalation{{EscalationID: "e", Direction: "negative", Severity: "critical", At: asOf.Add(-time.Hour)}}
		accounts := map[string]*features.Account{
			"churned":   {AccountID: "churned", ChurnedAt: asOf.Add(-24 * time.Hour)},
			"converted": {AccountID: "converted", TrialStartedAt: asOf.Add(-10 * 24 * time.Hour), TrialEndsAt: asOf.Add(4 * 24 * time.Hour), ConvertedAt: asOf.Add(-time.Hour)},
			"customer":  {AccountID: "customer"},
		}
		for id, a := range accounts {
			o := &alerts.Observation{AsOf: asOf, History: &features.History{AccountID: id, Account: a, Escalations: escalation}}
			if id == "converted" {
				o.Conversion = &alerts.ScoreChange{Probability: 0.8, PQL: true}
			}
			if _, err := eng.Raise(ctx, o, false); err != nil {
				t.Fatal(err)
			}
		}
		n, err := eng.Settle(ctx, asOf, []*features.Account{accounts["churned"], accounts["converted"], accounts["customer"], nil})
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("resolved %d alerts, want 2 (the churned account's escalation and the converted trial's PQL alert)", n)
		}
		want := map[string]string{"churned/negative_escalation": alerts.StatusResolved, "converted/trial_became_pql": alerts.StatusResolved,
			"converted/negative_escalation": alerts.StatusOpen, "customer/negative_escalation": alerts.StatusOpen}
		all, err := s.Alerts(ctx, alerts.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(want) {
			t.Errorf("%d alerts, want %d: %+v", len(all), len(want), all)
		}
		for _, a := range all {
			if got := a.Status; got != want[a.AccountID+"/"+a.Rule] {
				t.Errorf("%s/%s is %s, want %s", a.AccountID, a.Rule, got, want[a.AccountID+"/"+a.Rule])
			}
		}
	})
}
