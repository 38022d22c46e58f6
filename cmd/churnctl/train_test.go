package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTable writes a small churn table: low usage and open tickets raise
// churn, and the plan matters a little.
func writeTable(t *testing.T, path string, n int, seed uint64, withLabel bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	var b strings.Builder
	b.WriteString("account_id,usage,tickets,plan")
	if withLabel {
		b.WriteString(",churned")
	}
	b.WriteString("\n")
	plans := []string{"free", "pro", "enterprise"}
	for i := range n {
		usage, tickets := rng.Float64()*30, rng.IntN(6)
		p := 0.05
		if usage < 10 && tickets > 2 {
			p = 0.8
		}
		usageCell := fmt.Sprintf("%.2f", usage)
		if i%17 == 0 {
			usageCell = "" // missing
		}
		fmt.Fprintf(&b, "acct-%d,%s,%d,%s", i, usageCell, tickets, plans[rng.IntN(3)])
		if withLabel {
			fmt.Fprintf(&b, ",%t", rng.Float64() < p)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTrainThenPredict(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	model, pred := filepath.Join(dir, "model.json"), filepath.Join(dir, "pred.csv")
	writeTable(t, train, 600, 1, true)
	writeTable(t, test, 200, 2, true)
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"train", "--table", train, "--label", "churned", "--id", "account_id", "--algo", "logreg", "--out", model, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("train exited %d: %s", code, stderr.String())
	}
	var report trainReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("train --json printed %q: %v", stdout.String(), err)
	}
	if report.Algorithm != "logreg" || report.Rows != 600 || report.Features != 3 || !(report.FitSeconds > 0) || !(report.Validation.AUC > 0.7) {
		t.Errorf("train report = %+v", report)
	}

	stdout.Reset()
	if code := run(ctx, []string{"predict", "--model", model, "--table", test, "--out", pred, "--eval"}, &stdout, &stderr); code != 0 {
		t.Fatalf("predict exited %d: %s", code, stderr.String())
	}
	var eval evalReport
	if err := json.Unmarshal(stdout.Bytes(), &eval); err != nil || eval.Rows != 200 || !(eval.AUC > 0.7) {
		t.Errorf("predict --eval printed %q (%v)", stdout.String(), err)
	}
	f, err := os.Open(pred)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 201 || rows[0][0] != "id" || rows[0][1] != "probability" || rows[1][0] != "acct-0" || rows[200][0] != "acct-199" {
		t.Errorf("predictions start %v and end %v, want id,probability then acct-0 … acct-199", rows[:2], rows[len(rows)-1])
	}
}

func TestTrainPredictErrors(t *testing.T) {
	dir := t.TempDir()
	train, model := filepath.Join(dir, "train.csv"), filepath.Join(dir, "model.json")
	writeTable(t, train, 300, 3, true)
	if code := run(context.Background(), []string{"train", "--table", train, "--label", "churned", "--id", "account_id", "--algo", "logreg", "--out", model}, new(bytes.Buffer), new(bytes.Buffer)); code != 0 {
		t.Fatal("train failed")
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("account_id,usage,tickets,plan\na,1,2,pro\nb,lots,1,pro\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newPlan := filepath.Join(dir, "new.csv")
	if err := os.WriteFile(newPlan, []byte("usage,tickets,plan\n3,4,startup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pred.csv")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"train without label", []string{"train", "--table", train, "--out", model}, 2, "--label"},
		{"train unknown algo", []string{"train", "--table", train, "--label", "churned", "--out", model, "--algo", "forest"}, 2, `--algo "forest"`},
		{"predict bad number", []string{"predict", "--model", model, "--table", bad, "--out", out}, 1, bad + `: line 3: column "usage": "lots" is not a finite number`},
		{"predict with training table as model", []string{"predict", "--model", train, "--table", bad, "--out", out}, 1, train + ": models: decoding artifact"},
		{"predict unseen category", []string{"predict", "--model", model, "--table", newPlan, "--out", out}, 0, ""},
		{"predict eval without label", []string{"predict", "--model", model, "--table", newPlan, "--out", out, "--eval"}, 1, `no label column "churned"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), tc.args, new(bytes.Buffer), &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}
