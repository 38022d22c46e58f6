package dashboard

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestFormatting(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"num rounds to 2 decimals", num(0.11111), "0.11"},
		{"num trims zeros", num(2.50), "2.5"},
		{"num whole", num(3), "3"},
		{"num negative zero", num(-0.001), "0"},
		{"money separators", money(1234567.4), "$1,234,567"},
		{"money small", money(8.6), "$9"},
		{"prob never rounds to certain", prob(0.997), "99%"},
		{"prob small", prob(0.004), "<1%"},
		{"prob", prob(0.456), "46%"},
		{"prob one", prob(1), "99%"},
		{"prob half a percent", prob(0.005), "1%"},
		{"money negative", money(-1500), "−$1,500"},
		{"safeNext keeps a path", safeNext("/accounts?band=red"), "/accounts?band=red"},
		{"safeNext refuses another host", safeNext("//evil.example/x"), "/"},
		{"safeNext refuses a URL", safeNext("https://evil.example/"), "/"},
		{"safeNext refuses a backslash", safeNext("/\\evil.example"), "/"},
		{"safeNext refuses empty", safeNext(""), "/"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {0.3, 0.5}, {1, 1}, {7, 10}, {12, 20}, {180, 200}, {501, 1000}} {
		if got := niceCeil(tc.in); got != tc.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   sparkline
	}{
		{"none", nil, sparkline{Label: "no scores yet"}},
		{"one point sits at the right", []float64{70}, sparkline{Points: "93,12", LastX: 93, LastY: 12, Label: "one score so far: 70"}},
		{"flat series is centred, not stretched", []float64{50, 50, 50},
			sparkline{Points: "3,12 48,12 93,12", LastX: 93, LastY: 12, Label: "health over the last 3 scores, from 50 to 50"}},
		{"falling", []float64{90, 60, 30},
			sparkline{Points: "3,3 48,12 93,21", LastX: 93, LastY: 21, Label: "health over the last 3 scores, from 90 to 30"}},
	}
	for _, tc := range tests {
		if got := newSparkline(tc.values); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestChartGolden renders a health history and a usage chart with the
// dashboard's templates and compares the SVG with testdata/.
func TestChartGolden(t *testing.T) {
	d, err := New(nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	health := []point{{"Oct 2", 85, "a <b>"}, {"Oct 9", 72, "b"}, {"Oct 16", 64, "c"}, {"Oct 23", 41, "d"}, {"Oct 30", 58, "e"}}
	usage := []point{{"w1", 120, "120 uses"}, {"w2", 80, "80"}, {"w3", 0, "0"}, {"w4", 33, "33"}}
	for name, c := range map[string]*chart{
		"health-chart.svg": healthChart(640, 200, health, 80, 60),
		"usage-chart.svg":  barChart(640, 160, "Product uses per week", usage),
	} {
		var buf bytes.Buffer
		if err := d.pages["account"].ExecuteTemplate(&buf, "chart", c); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs from the golden file (go test -run ChartGolden -update to accept):\n%s", name, buf.String())
		}
	}
}
