package models_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/models"
)

// logregArtifact fits a small logistic regression with the given
// calibration and wraps it in an artifact.
func logregArtifact(t testing.TB, method models.CalibrationMethod) (*models.Artifact, *models.Dataset) {
	t.Helper()
	data := mixedData(3000, 7)
	m, err := models.FitLogReg(data, models.DefaultLogRegParams())
	if err != nil {
		t.Fatal(err)
	}
	raw := m.PredictRaw(data, nil)
	var cal *models.Calibrator
	switch method {
	case models.CalibrationPlatt:
		cal, err = models.FitPlatt(raw, data.Labels, nil)
	case models.CalibrationIsotonic:
		cal, err = models.FitIsotonic(raw, data.Labels, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &models.Artifact{
		Algorithm:   models.AlgorithmLogReg,
		Model:       m,
		Params:      models.DefaultLogRegParams(),
		Calibration: cal,
		Metadata: models.Metadata{
			Task: "churn", Label: "churned", IDColumn: "account_id", Rows: data.Rows(),
			TrainedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
			Metrics:   map[string]float64{"auc": 0.8125, "log_loss": 1.0 / 3},
		},
	}, data
}

func encode(t testing.TB, a *models.Artifact) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := models.EncodeArtifact(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestArtifactRoundTripIsBitIdentical(t *testing.T) {
	for _, method := range []models.CalibrationMethod{models.CalibrationNone, models.CalibrationPlatt, models.CalibrationIsotonic} {
		t.Run(string(method), func(t *testing.T) {
			a, data := logregArtifact(t, method)
			b, err := models.DecodeArtifact(bytes.NewReader(encode(t, a)))
			if err != nil {
				t.Fatal(err)
			}
			want, err := a.PredictDataset(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.PredictDataset(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("row %d: %v after round trip, %v before", i, got[i], want[i])
				}
			}
			if b.Params != models.DefaultLogRegParams() {
				t.Errorf("params = %#v, want defaults", b.Params)
			}
			if b.Metadata.Metrics["log_loss"] != 1.0/3 || !b.Metadata.TrainedAt.Equal(a.Metadata.TrainedAt) || b.Metadata.IDColumn != "account_id" {
				t.Errorf("metadata = %+v, want %+v", b.Metadata, a.Metadata)
			}
			// Encoding is deterministic: a decoded artifact re-encodes to the same bytes.
			if !bytes.Equal(encode(t, a), encode(t, b)) {
				t.Error("re-encoding a decoded artifact changed its bytes")
			}
		})
	}
}

func TestArtifactAcceptsReindentedBody(t *testing.T) {
	a, _ := logregArtifact(t, models.CalibrationPlatt)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, encode(t, a), "", "  "); err != nil {
		t.Fatal(err)
	}
	if _, err := models.DecodeArtifact(&pretty); err != nil {
		t.Errorf("re-indented artifact refused: %v", err)
	}
}

// reseal replaces the body of an encoded artifact after edit and writes a
// matching checksum, as a careless tool (not an attacker of SHA-256) would.
func reseal(t *testing.T, data []byte, edit func(body map[string]any)) []byte {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(env["body"], &body); err != nil {
		t.Fatal(err)
	}
	edit(body)
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	env["body"] = raw
	env["sha256"], _ = json.Marshal(hex.EncodeToString(sum[:]))
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDecodeArtifactRefuses(t *testing.T) {
	a, _ := logregArtifact(t, models.CalibrationIsotonic)
	good := encode(t, a)
	// The last digit of the intercept: changing it keeps the JSON valid.
	i := bytes.Index(good, []byte(`"intercept":`))
	i += bytes.IndexByte(good[i:], ',') - 1
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"changed byte in body", func() []byte {
			b := bytes.Clone(good)
			b[i] = '0' + (b[i]-'0'+1)%10
			return b
		}(), "checksum mismatch"},
		{"unknown format", bytes.Replace(good, []byte(`"format":1`), []byte(`"format":2`), 1), "format 2"},
		{"not JSON", good[:len(good)/2], "decoding artifact"},
		{"unknown algorithm", reseal(t, good, func(b map[string]any) { b["algorithm"] = "forest" }), "unknown algorithm"},
		{"stored schema renamed", reseal(t, good, func(b map[string]any) {
			b["schema"].([]any)[0].(map[string]any)["name"] = "logins"
		}), "schema differs"},
		{"category dropped from model", reseal(t, good, func(b map[string]any) {
			f := b["model"].(map[string]any)["schema"].([]any)[1].(map[string]any)
			f["categories"] = f["categories"].([]any)[:2]
		}), "schema differs"},
		{"term too narrow", reseal(t, good, func(b map[string]any) {
			term := b["model"].(map[string]any)["terms"].([]any)[1].(map[string]any)
			term["coef"] = term["coef"].([]any)[:1]
		}), "term widths"},
		{"isotonic decreasing", reseal(t, good, func(b map[string]any) {
			vals := b["calibration"].(map[string]any)["values"].([]any)
			vals[0], vals[len(vals)-1] = vals[len(vals)-1], vals[0]
		}), "not increasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := models.DecodeArtifact(bytes.NewReader(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestArtifactRefusesMismatchedVectors(t *testing.T) {
	a, data := logregArtifact(t, models.CalibrationPlatt)
	names := a.Schema().Names()
	good := data.Row(0, nil)
	if _, err := a.PredictNamed(names, good); err != nil {
		t.Fatalf("matching vector refused: %v", err)
	}
	other := *data
	other.Schema = append(models.Schema(nil), data.Schema...)
	other.Schema[0].Name = "logins"
	for _, tc := range []struct {
		name  string
		names []string
		row   []float64
		want  string
	}{
		{"too short", names, good[:2], "2 values"},
		{"too long", names, []float64{0, 0, 0, 0}, "4 values"},
		{"unknown category", names, []float64{0, 3, 0}, "category code"},
		{"swapped names", []string{names[1], names[0], names[2]}, good, "model expects"},
		{"missing name", names[:2], good, "2 feature names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.PredictNamed(tc.names, tc.row)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := a.PredictDataset(&other, nil); err == nil {
		t.Error("dataset with a renamed feature was scored")
	}
}
