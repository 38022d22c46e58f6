package serving

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoadConfig reads any file as churn.yaml: LoadConfig returns an error
// or a configuration whose bands and PQL threshold hold their contracts,
// never panics, and reads the same file the same way twice. Run it with
//
//	go test ./serving -run '^$' -fuzz FuzzLoadConfig -fuzztime 5m
func FuzzLoadConfig(f *testing.F) {
	if seed, err := os.ReadFile(filepath.Join("..", "testdata", "serving", "churn.yaml")); err == nil {
		f.Add(seed)
	}
	for _, s := range []string{
		"", "bands: {green: 80, yellow: 60}\n", "bands: {green: 60, yellow: 80}\n", "pql_threshold: 1\n",
		"alerts:\n  rules: [{name: usage_drop, params: {drop: 0.6}}]\n", "alerts:\n  rules: [{name: nope}]\n",
		"api: {rate_per_second: -1, body_limit: 1K, score_stale_after: 48h}\n", "limits: {event_lead: 72h}\n",
		"webhook: {url: 'http://x', max_attempts: 0}\n", "a: &a [*a]\n", "unknown: 1\n", "schedule: '* * *'\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "churn.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			return
		}
		if err := c.Bands.validate(); err != nil {
			t.Fatalf("LoadConfig accepted bands %+v: %v", c.Bands, err)
		}
		if c.PQLThreshold < 0 || c.PQLThreshold >= 1 {
			t.Fatalf("LoadConfig accepted pql_threshold %v", c.PQLThreshold)
		}
		again, err := LoadConfig(path)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("a second read differs: %v", err)
		}
	})
}
