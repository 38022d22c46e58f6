package serving

import (
	"math"
	"testing"
)

func TestBandsAndHealth(t *testing.T) {
	b := DefaultBands()
	tests := []struct {
		p    float64
		band string
	}{{0, Green}, {0.018, Green}, {0.0185, Yellow}, {0.041, Yellow}, {0.0415, Red}, {1, Red}}
	for _, tc := range tests {
		if got := b.Band(Health(tc.p, 30)); got != tc.band {
			t.Errorf("p = %v over 30 days: band %s, want %s", tc.p, got, tc.band)
		}
	}
	for p := 0.0; p < 1; p += 0.01 {
		if Health(p, 30) <= Health(p+0.01, 30) {
			t.Fatalf("health is not decreasing at p = %v", p)
		}
	}
	// A year's horizon needs no annualising; a longer horizon at the same
	// probability is healthier.
	if h := Health(0.25, 365); math.Abs(h-75) > 1e-9 {
		t.Errorf("Health(0.25, 365) = %v, want 75", h)
	}
	if Health(0.05, 90) <= Health(0.05, 30) {
		t.Errorf("a 5%% risk over 90 days scores no better than over 30 days")
	}
}

func TestComponentScore(t *testing.T) {
	tests := []struct {
		c              float64
		positiveIsGood bool
		want           float64
	}{{0, false, 50}, {0, true, 50}, {math.Log(3), false, 25}, {math.Log(3), true, 75}, {-math.Log(3), false, 75}}
	for _, tc := range tests {
		if got := ComponentScore(tc.c, tc.positiveIsGood); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ComponentScore(%v, %v) = %v, want %v", tc.c, tc.positiveIsGood, got, tc.want)
		}
	}
}

func TestCaptureThreshold(t *testing.T) {
	tests := []struct {
		name                   string
		scores, labels         []float64
		wantThreshold, wantShr float64
	}{
		{"labels", []float64{0.9, 0.8, 0.7, 0.2, 0.1}, []float64{1, 0, 1, 1, 0}, 0.7, 0.6},
		{"first row is enough", []float64{0.9, 0.1, 0.1}, []float64{1, 0, 0}, 0.9, 1.0 / 3},
		{"expected conversions", []float64{0.6, 0.3, 0.1}, nil, 0.6, 1.0 / 3},
		{"no positives", []float64{0.5, 0.4}, []float64{0, 0}, 1, 0},
	}
	for _, tc := range tests {
		th, share := CaptureThreshold(tc.scores, tc.labels, 0.6)
		if th != tc.wantThreshold || math.Abs(share-tc.wantShr) > 1e-12 {
			t.Errorf("%s: threshold %v, share %v; want %v, %v", tc.name, th, share, tc.wantThreshold, tc.wantShr)
		}
	}
}
