package attention

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
)

// TestKeyRunsHide checks keyRuns.hide against a test per key, over masks
// with runs at the start, the middle and the end, all keys hidden and none,
// and blocks at every offset and width.
func TestKeyRunsHide(t *testing.T) {
	const b, tk, nr = 5, 37, 4
	mask := make([]bool, b*tk)
	for i := range mask {
		mask[i] = true
	}
	for _, k := range []int{0, 1, 2, 10, 11, 36} { // batch 0: runs at both ends
		mask[k] = false
	}
	for k := 20; k < tk; k++ { // batch 1: a padding tail
		mask[tk+k] = false
	}
	for k := range tk { // batch 2: everything hidden
		mask[2*tk+k] = false
	}
	r := rng.New(3) // batch 4: random
	for k := range tk {
		mask[4*tk+k] = r.Float32() < 0.5
	}
	kr := getKeyRuns(mask, b, tk)
	defer putKeyRuns(kr)
	for bb := range b {
		for j0 := range tk {
			for kb := 0; j0+kb <= tk; kb++ {
				got := make([]float32, kb*nr)
				kr.hide(got, bb, j0, kb, nr)
				for row := range kb {
					want := float32(0)
					if !mask[bb*tk+j0+row] {
						want = float32(math.Inf(-1))
					}
					for c := range nr {
						if got[row*nr+c] != want {
							t.Fatalf("batch %d, keys %d..%d: row %d col %d = %v, want %v", bb, j0, j0+kb, row, c, got[row*nr+c], want)
						}
					}
				}
			}
		}
	}
	if getKeyRuns(nil, b, tk) != nil {
		t.Error("a nil mask has runs")
	}
}

func TestFillNegInf(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 200, 4096} {
		s := make([]float32, n+1)
		fillNegInf(s[:n])
		for i, v := range s[:n] {
			if !math.IsInf(float64(v), -1) {
				t.Fatalf("n=%d: s[%d] = %v", n, i, v)
			}
		}
		if s[n] != 0 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}
