package table_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/openchurn/churn/training/metrics"
	"github.com/openchurn/churn/training/table"
)

// sharedDir is where ../shared sits relative to this package.
const sharedDir = "../../../shared"

// TestQualityAgainstPeers fits with DefaultOptions (what `churnctl train`
// runs without tuning flags) and checks held-out quality against the best
// of the peer baselines: ROC AUC at least best − 0.003 and Brier at most
// best + 0.002.
//
// The peer figures were measured once with scikit-learn 1.2.1 and XGBoost
// 1.7.4 (Debian packages) by
//
//	/usr/bin/python3 ../shared/peers/peers.py ../shared/data/churn-bigml-80.csv \
//	    --label Churn --positive True --test ../shared/data/churn-bigml-20.csv
//	/usr/bin/python3 ../shared/peers/peers.py ../shared/data/online_shoppers_intention.csv \
//	    --label Revenue --positive TRUE --test-fraction 0.25 --seed 7
//
// The test skips when the data is absent, and under -short. The shoppers
// split is scikit-learn's, so that case also needs /usr/bin/python3 with
// the peers' packages to write it.
func TestQualityAgainstPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("fits on real tables; skipped under -short")
	}
	data := filepath.Join(sharedDir, "data")
	if _, err := os.Stat(data); err != nil {
		t.Skipf("no shared data: %v", err)
	}
	for _, tc := range []struct {
		name            string
		split           func(t *testing.T) (train, test string)
		label, positive string
		// Best peer figures: AUC of xgboost-hist-early-stop (churn) and
		// sklearn-histgb (shoppers); Brier of xgboost-hist-default (churn)
		// and xgboost-hist-early-stop (shoppers).
		peerAUC, peerBrier float64
	}{
		{"churn-bigml", func(*testing.T) (string, string) {
			return filepath.Join(data, "churn-bigml-80.csv"), filepath.Join(data, "churn-bigml-20.csv")
		}, "Churn", "True", 0.9223, 0.03411},
		{"online-shoppers", func(t *testing.T) (string, string) {
			dir := t.TempDir()
			cmd := exec.Command("/usr/bin/python3", filepath.Join(sharedDir, "peers", "peers.py"),
				filepath.Join(data, "online_shoppers_intention.csv"), "--label", "Revenue", "--positive", "TRUE",
				"--test-fraction", "0.25", "--seed", "7", "--only", "logreg", "--write-split", dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Skipf("cannot write the peers' split: %v\n%s", err, out)
			}
			return filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
		}, "Revenue", "TRUE", 0.92272, 0.07364},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			trainPath, testPath := tc.split(t)
			spec := table.Spec{Label: tc.label, Positive: tc.positive}
			train, _, err := load(t, trainPath).Dataset(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			res, err := table.Fit(ctx, train, table.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			test := load(t, testPath)
			d, _, err := test.Apply(ctx, res.Artifact.Schema(), "")
			if err != nil {
				t.Fatal(err)
			}
			y, err := test.Labels(spec)
			if err != nil {
				t.Fatal(err)
			}
			p, err := res.Artifact.PredictDataset(d, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := metrics.Evaluate(y, p, nil)
			t.Logf("%s: held-out AUC %.4f, PR AUC %.4f, log loss %.4f, Brier %.4f", res.Chosen.Algorithm, got.AUC, got.PRAUC, got.LogLoss, got.Brier)
			if got.AUC < tc.peerAUC-0.003 {
				t.Errorf("AUC %.4f below the bar %.4f", got.AUC, tc.peerAUC-0.003)
			}
			if got.Brier > tc.peerBrier+0.002 {
				t.Errorf("Brier %.4f above the bar %.4f", got.Brier, tc.peerBrier+0.002)
			}
		})
	}
}

func load(t *testing.T, path string) *table.Table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tb, err := table.Read(context.Background(), f, path)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}
