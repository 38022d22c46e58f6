package models_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"testing"

	"github.com/openchurn/churn/models"
)

// FuzzLoadArtifact checks that DecodeArtifact never panics and that an
// artifact it accepts can be used without panicking. Each input is tried
// as given and, because random bytes almost never carry a matching
// SHA-256, once more with its body resealed under a correct checksum, so
// the structural checks behind the checksum are fuzzed too.
func FuzzLoadArtifact(f *testing.F) {
	for _, method := range []models.CalibrationMethod{models.CalibrationNone, models.CalibrationPlatt, models.CalibrationIsotonic} {
		a, _ := logregArtifact(f, method)
		f.Add(encode(f, a))
	}
	bag, _ := bagArtifact(f)
	f.Add(encode(f, bag))
	f.Add([]byte(`{"format":1,"sha256":"","body":{}}`))
	f.Add([]byte(`{"format":1,"sha256":"","body":{"algorithm":"logreg","schema":[{"name":"a","kind":1,"categories":["x"]}],"model":{"schema":[{"name":"a","kind":1,"categories":["x"]}],"terms":[{"mean":[0],"scale":[1],"coef":[1]}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		use(t, data)
		var env struct {
			Format int             `json:"format"`
			Body   json.RawMessage `json:"body"`
		}
		if json.Unmarshal(data, &env) != nil || len(env.Body) == 0 {
			return
		}
		var canonical bytes.Buffer
		if json.Compact(&canonical, env.Body) != nil {
			return
		}
		sum := sha256.Sum256(canonical.Bytes())
		sealed, err := json.Marshal(map[string]any{"format": env.Format, "sha256": hex.EncodeToString(sum[:]), "body": env.Body})
		if err != nil {
			return
		}
		use(t, sealed)
	})
}

// use decodes data and, if it is accepted, predicts and explains a few
// vectors of the right width and some of the wrong width.
func use(t *testing.T, data []byte) {
	a, err := models.DecodeArtifact(bytes.NewReader(data))
	if err != nil {
		return
	}
	n := len(a.Schema())
	for _, row := range [][]float64{make([]float64, n), nanRow(n), make([]float64, n+1), nil} {
		p, err := a.Predict(row)
		if err == nil && len(row) == n && !(p >= 0 && p <= 1) {
			t.Errorf("Predict(%v) = %v, not a probability", row, p)
		}
		a.Explain(row)
	}
}

func nanRow(n int) []float64 {
	row := make([]float64, n)
	for i := range row {
		row[i] = math.NaN()
	}
	return row
}
