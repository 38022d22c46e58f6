package trainer

import (
	"math"
	"testing"
)

func TestPQLFromHistogram(t *testing.T) {
	var neg, pos [20]int
	neg[2], neg[10], neg[19] = 80, 10, 2
	pos[2], pos[10], pos[19] = 2, 3, 5 // the top bin holds half the positives, the top two 80%
	th, share := pqlFromHistogram([2][20]int{neg, pos})
	if th != 0.5 || math.Abs(share-20.0/102) > 1e-12 {
		t.Errorf("threshold %v, share %v; want 0.5, %v", th, share, 20.0/102)
	}
	if th, share := pqlFromHistogram([2][20]int{neg, {}}); th != 0 || share != 0 {
		t.Errorf("a histogram without positives gave threshold %v, share %v", th, share)
	}
}
