package vmath

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// colWidths covers the Go loops (1, 7), 8-column AVX2 strips alone (8), and
// on the AVX-512 path 16-column strips alone (16, 32, 48) and followed by
// one 8-column strip (24, 40).
var colWidths = []int{1, 7, 8, 16, 24, 32, 40, 48}

// The column operations must match the plain loops for every width and
// row count on every path.
func TestColumnOps(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, w := range colWidths {
			for _, rows := range []int{0, 1, 5, 33} {
				testColumnOps(t, w, rows)
			}
		}
	})
}

func testColumnOps(t *testing.T, w, rows int) {
	t.Helper()
	x := kerneltest.Rand(uint64(w*100+rows), rows*w, 2)
	y := kerneltest.Rand(uint64(w*100+rows+1), rows*w, 2)
	m := kerneltest.Rand(7, w, 1)
	// reference loops, in float64 where the kernels may round differently
	wantM := append([]float32(nil), m...)
	wantE := make([]float32, rows*w)
	sumE := make([]float64, w)
	dots := make([]float64, w)
	wantG := append([]float32(nil), y...)
	wantSc := append([]float32(nil), x...)
	for r := range rows {
		for c := range w {
			i := r*w + c
			if x[i] > wantM[c] {
				wantM[c] = x[i]
			}
			wantE[i] = expRef(x[i] - m[c])
			sumE[c] += math.Exp(float64(x[i] - m[c]))
			dots[c] += float64(x[i]) * float64(y[i])
			wantG[i] = 0.5 * x[i] * (y[i] - m[c])
			wantSc[i] = x[i] * m[c]
		}
	}
	name := func(op string) string { return op + " w=" + itoa(w) + " rows=" + itoa(rows) }

	gotM := append([]float32(nil), m...)
	MaxCols(gotM, x)
	kerneltest.Identical(t, name("MaxCols"), gotM, wantM)

	gotE := make([]float32, rows*w)
	gotS := make([]float32, w)
	ExpSubCols(gotE, x, m, gotS)
	kerneltest.Close(t, name("ExpSubCols"), gotE, wantE, expTol)
	kerneltest.Close(t, name("ExpSubCols sums"), gotS, f32(sumE), kerneltest.Tol{Rel: 1e-6})

	gotD := make([]float32, w)
	DotCols(gotD, x, y)
	kerneltest.Close(t, name("DotCols"), gotD, f32(dots), kerneltest.Tol{Abs: 1e-5, Rel: 1e-5})

	gotG := append([]float32(nil), y...)
	SoftmaxGradCols(gotG, x, m, 0.5)
	kerneltest.Identical(t, name("SoftmaxGradCols"), gotG, wantG)

	gotSc := append([]float32(nil), x...)
	ScaleCols(gotSc, m)
	kerneltest.Identical(t, name("ScaleCols"), gotSc, wantSc)
}

// TestColumnEdges runs the column kernels over ±Inf, NaN, ±0 and the exp
// edge values, and checks the semantics cols.go documents: MaxCols skips
// NaN elements and keeps a NaN maximum, and ExpSubCols gives exp's edge
// values and NaN for NaN.
func TestColumnEdges(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	vals := []float32{nan, -inf, inf, 0, negZero, -104, -103.98, -87.5, 88.72, expOverflow, 1, -1}
	forEachPath(t, func(t *testing.T) {
		for _, w := range colWidths {
			const rows = 13
			x := make([]float32, rows*w)
			for i := range x {
				x[i] = vals[(i*7+i/w)%len(vals)]
			}
			m := make([]float32, w)
			for c := range m {
				m[c] = vals[(c*5)%len(vals)]
			}
			wantM := append([]float32(nil), m...)
			for i, v := range x {
				if v > wantM[i%w] {
					wantM[i%w] = v
				}
			}
			gotM := append([]float32(nil), m...)
			MaxCols(gotM, x)
			kerneltest.Identical(t, "MaxCols w="+itoa(w), gotM, wantM)

			// exp of x - 0 is exp(x)
			zero := make([]float32, w)
			gotE := make([]float32, rows*w)
			sums := make([]float32, w)
			ExpSubCols(gotE, x, zero, sums)
			wantE := make([]float32, rows*w)
			wantS := make([]float64, w) // NaN or +Inf when a column has one
			for i, v := range x {
				wantE[i] = expRef(v)
				wantS[i%w] += float64(wantE[i])
			}
			kerneltest.Close(t, "ExpSubCols w="+itoa(w), gotE, wantE, expTol)
			kerneltest.Close(t, "ExpSubCols sums w="+itoa(w), sums, f32(wantS), kerneltest.Tol{Rel: 1e-6})
		}
	})
}

// A zero width does nothing, whatever the other operands hold.
func TestColumnOpsZeroWidth(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		x := []float32{1, 2, 3}
		MaxCols(nil, x)
		ExpSubCols(x, x, nil, nil)
		ScaleCols(x, nil)
		DotCols(nil, x, x)
		SoftmaxGradCols(x, x, nil, 1)
		kerneltest.Identical(t, "x", x, []float32{1, 2, 3})
	})
}

func f32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
