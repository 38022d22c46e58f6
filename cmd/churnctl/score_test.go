package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/simulate"
)

func TestScore(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "churn.db")
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := simulate.Config{Accounts: 300, Months: 12, Seed: 3}
	if err := demo.Generate(ctx, s, cfg); err != nil {
		t.Fatal(err)
	}
	for _, task := range serving.Tasks {
		if _, err := demo.Train(ctx, s, task, cfg.End(), demo.Features(), "logreg"); err != nil {
			t.Fatal(err)
		}
	}
	score := func(args ...string) (serving.Report, string, int) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"score", "--db", dsn}, args...), &out, &errOut)
		var rep serving.Report
		if code == 0 && strings.Contains(strings.Join(args, " "), "--json") {
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("score output %q: %v", out.String(), err)
			}
		}
		return rep, out.String() + errOut.String(), code
	}
	first, log, code := score("--as-of", "2025-01-01", "--json")
	if code != 0 || first.Scored["churn"] == 0 || first.Scored["conversion"] == 0 || first.Accounts != 300 {
		t.Fatalf("exit %d, report %+v\n%s", code, first, log)
	}
	if !strings.Contains(log, "msg=scoring") {
		t.Errorf("no progress line on a non-terminal stderr:\n%s", log)
	}
	again, _, code := score("--as-of", "2025-01-01", "--json", "--task", "all")
	n, err := s.CountScores(ctx, "churn")
	if code != 0 || again.Scored["churn"] != first.Scored["churn"] || err != nil || n != first.Scored["churn"] || again.Alerts != 0 {
		t.Errorf("re-run: exit %d, %+v; %d churn rows stored (%v)", code, again, n, err)
	}
	_, text, code := score("--as-of", "2025-01-01", "--task", "churn", "--shard", "1/2")
	if code != 0 || !regexp.MustCompile(`scored shard 1/2 as of 2025-01-01T00:00:00Z: \d+ accounts`).MatchString(text) {
		t.Errorf("shard run: exit %d\n%s", code, text)
	}
	for _, bad := range [][]string{{"--task", "upsell"}, {"--shard", "3/3"}, {"--as-of", "yesterday"}, {"extra"}, {"--config", "/no/file"}} {
		if _, out, code := score(bad...); code != 2 {
			t.Errorf("score %v: exit %d, want 2\n%s", bad, code, out)
		}
	}
	if _, _, code := score("--db", "sqlite:"+filepath.Join(t.TempDir(), "empty.db")); code != 1 {
		t.Errorf("scoring a store without models: exit %d, want 1", code)
	}
}

func TestExitError(t *testing.T) {
	err := exitError{exitPartial, errors.New("2 of 10 accounts failed")}
	if code, ok := asExitError(err); !ok || code != 3 {
		t.Errorf("asExitError = %d, %v", code, ok)
	}
	if _, ok := asExitError(errors.New("plain")); ok {
		t.Error("a plain error carries an exit status")
	}
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "churn.db")
	keys := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"keys"}, append(args[:1:1], append([]string{"--db", dsn}, args[1:]...)...)...), &out, &errOut)
		return out.String() + errOut.String(), code
	}
	out, code := keys("create", "--role", "viewer", "--name", "rep")
	key := regexp.MustCompile(`churn_\S+`).FindString(out)
	id := regexp.MustCompile(`key_[0-9a-f]+`).FindString(out)
	if code != 0 || key == "" || id == "" {
		t.Fatalf("create: exit %d\n%s", code, out)
	}
	if out, code := keys("list"); code != 0 || !strings.Contains(out, id) || strings.Contains(out, key) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if out, code := keys("revoke", id); code != 0 {
		t.Errorf("revoke: exit %d\n%s", code, out)
	}
	out, code = keys("create", "--role", "viewer", "--name", "rep two", "--owner", "rep-02")
	owned := regexp.MustCompile(`key_[0-9a-f]+`).FindString(out)
	if code != 0 || owned == "" || !strings.Contains(out, "rep-02's book") {
		t.Fatalf("create --owner: exit %d\n%s", code, out)
	}
	if out, _ := keys("list"); !regexp.MustCompile(owned + `\s+viewer\s+rep two\s+rep-02\s`).MatchString(out) {
		t.Errorf("list does not show %s's owner:\n%s", owned, out)
	}
	for _, bad := range [][]string{{"create", "--role", "root"}, {"create", "--role", "viewer", "--owner", "all"},
		{"create", "--role", "viewer", "--owner", "rep\x01"}, {"revoke", "key_nope"}, {"revoke"}, {"rotate"}} {
		if out, code := keys(bad...); code != 2 {
			t.Errorf("keys %v: exit %d, want 2\n%s", bad, code, out)
		}
	}
}
