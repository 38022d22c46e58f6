package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/store/storetest"
)

// FuzzIngest posts any body to POST /v1/ingest/{table}: the answer is a
// 2xx or a 4xx, never a 5xx, and a 4xx stores nothing. Run it with
//
//	go test ./serving/api -run '^$' -fuzz FuzzIngest -fuzztime 5m
//
// findings are kept under testdata/fuzz/FuzzIngest and run by go test.
func FuzzIngest(f *testing.F) {
	tables := features.Tables
	seeds := []struct {
		table int
		body  string
	}{
		{0, `{"account_id":"a1","created_at":"2024-01-01","mrr":120,"seats":3,"owner":"rep"}`},
		{0, `[{"account_id":"a2","created_at":"2024-01-01","trial_started_at":"2024-01-01","trial_ends_at":"2024-01-15"}]`},
		{1, `{"account_id":"a1","feature":"reports","at":"2024-02-01T10:00:00Z","count":3}` + "\n" + `{"account_id":"a1","feature":"x","at":"2024-02-02"}`},
		{2, `{"ticket_id":"t1","account_id":"a1","opened_at":"2024-02-01","priority":"high","escalated":"true","csat":4}`},
		{3, `{"escalation_id":"e1","account_id":"a1","at":"2024-02-01","direction":"negative","severity":"high","note":"a\u0000b"}`},
		{4, `{"response_id":"r1","account_id":"a1","at":"2024-02-01","kind":"nps","score":9}`},
		{5, `{"change_id":"b1","account_id":"a1","at":"2024-02-01","mrr":1e308,"kind":"new"}`},
		{5, `[{"change_id":"b2","account_id":"a1","at":"0001-01-01","mrr":10,"kind":"new"}, 1, null]`},
		{1, `{"account_id":"a1","feature":"f","at":"2024-02-01","count":9223372036854775807}`},
		{0, "\xff\xfe{\"account_id\":\"\\ud800\"}"},
		{0, `[`},
		{0, ``},
	}
	for _, s := range seeds {
		f.Add(uint8(s.table), []byte(s.body))
	}
	s := storetest.Open(f, "sqlite")
	key, rec, err := access.NewKey(access.Ingest, "fuzz", time.Now())
	if err != nil {
		f.Fatal(err)
	}
	if err := s.CreateAPIKey(context.Background(), rec); err != nil {
		f.Fatal(err)
	}
	h := New(s, nil, nil, Options{Logger: slog.New(slog.DiscardHandler), BodyLimit: "64K", KeyRefresh: time.Hour}).Handler()
	f.Fuzz(func(t *testing.T, table uint8, body []byte) {
		ctx := context.Background()
		before, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tbl := tables[int(table)%len(tables)]
		req := httptest.NewRequest(http.MethodPost, "/v1/ingest/"+string(tbl), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch {
		case w.Code >= 500:
			t.Fatalf("%s %q: %d %s", tbl, body, w.Code, w.Body)
		case w.Code >= 400:
			after, err := s.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("%s %q: %d, yet the store changed from %+v to %+v", tbl, body, w.Code, before, after)
			}
		case w.Code < 200 || w.Code >= 300:
			t.Fatalf("%s %q: %d", tbl, body, w.Code)
		}
	})
}
