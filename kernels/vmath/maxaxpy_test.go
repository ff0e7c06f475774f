package vmath

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// Max, Axpy and Mul give the same bits on every path, for lengths around the
// 16-lane blocks, with NaN anywhere and with nothing but -Inf.
func TestMaxAxpyPathsAgree(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 33, 256, 1000} {
		x := kerneltest.Rand(uint64(n+1), n, 3)
		y0 := kerneltest.Rand(uint64(n+2), n, 1)
		var wantMax float32
		var wantY []float32
		for i, p := range paths {
			prev, _ := usePath(p.String())
			m := Max(x)
			y := append([]float32(nil), y0...)
			Axpy(-0.75, x, y)
			Mul(y, x)
			usePath(prev)
			if i == 0 {
				wantMax, wantY = m, y
				continue
			}
			if math.Float32bits(m) != math.Float32bits(wantMax) {
				t.Errorf("n=%d: Max on %v = %v, on %v = %v", n, p, m, paths[0], wantMax)
			}
			kerneltest.Identical(t, fmt.Sprintf("n=%d: Axpy, Mul on %v", n, p), y, wantY)
		}
		if n == 0 {
			continue
		}
		forEachPath(t, func(t *testing.T) {
			for _, at := range []int{0, n / 2, n - 1} {
				z := append([]float32(nil), x...)
				z[at] = float32(math.NaN())
				if m := Max(z); m == m {
					t.Errorf("n=%d, NaN at %d: Max = %v, want NaN", n, at, m)
				}
			}
			inf := make([]float32, n)
			for i := range inf {
				inf[i] = float32(math.Inf(-1))
			}
			if m := Max(inf); !math.IsInf(float64(m), -1) {
				t.Errorf("n=%d: Max of -Inf = %v", n, m)
			}
		})
	}
}
