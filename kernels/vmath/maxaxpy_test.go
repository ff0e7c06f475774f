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

// CopyRows moves exactly the block it is given, on every path, for widths
// that are and are not whole vectors of 8, and panics on short slices.
func TestCopyRows(t *testing.T) {
	for _, p := range paths {
		prev, _ := usePath(p.String())
		for _, width := range []int{1, 4, 7, 8, 12, 16, 20, 24, 32, 33, 64} {
			rows, ss, ds := 5, width+3, width+9
			src := kerneltest.Rand(uint64(width), (rows-1)*ss+width, 1)
			dst := make([]float32, (rows-1)*ds+width+2)
			for i := range dst {
				dst[i] = -7
			}
			CopyRows(dst, ds, src, ss, rows, width)
			for i := range dst {
				r, c := i/ds, i%ds
				want := float32(-7)
				if r < rows && c < width {
					want = src[r*ss+c]
				}
				if dst[i] != want {
					t.Fatalf("%v width=%d: dst[%d] (row %d, col %d) = %v, want %v", p, width, i, r, c, dst[i], want)
				}
			}
		}
		usePath(prev)
	}
	defer func() {
		if recover() == nil {
			t.Error("CopyRows with a short destination did not panic")
		}
	}()
	CopyRows(make([]float32, 10), 8, make([]float32, 64), 8, 2, 8)
}
