package vmath

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/rng"
)

func TestExpAccuracy(t *testing.T) {
	r := rng.New(3)
	for _, n := range []int{1, 7, 15, 16, 17, 33, 1000} {
		x := make([]float32, n)
		r.FillUniform(x, -87, 88.5)
		x[0] = 0
		got := make([]float32, n)
		Exp(got, x)
		want := make([]float32, n)
		for i, v := range x {
			want[i] = float32(math.Exp(float64(v)))
		}
		kerneltest.Close(t, "Exp vector path", got, want, kerneltest.Tol{Rel: 3e-7})
		expGo(got, x)
		kerneltest.Close(t, "Exp Go path", got, want, kerneltest.Tol{Rel: 3e-7})
	}
}

func TestExpEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	x := make([]float32, 32)
	vals := []float32{-inf, -200, -103.98, -100, -87.5, -87.33, 88.7, 88.72, 88.73, 100, inf, 0, -0.0, 1e-10, -1e-10, 0.5}
	copy(x, vals)
	copy(x[16:], vals)
	got := make([]float32, 32)
	Exp(got, x)
	for i, v := range x {
		want := float32(math.Exp(float64(v)))
		g := got[i]
		if want == 0 || math.IsInf(float64(want), 1) || want < 1.2e-38 {
			// subnormal range: absolute error below the smallest normal
			if math.Abs(float64(g-want)) > 1.2e-38 && !(math.IsInf(float64(g), 1) && math.IsInf(float64(want), 1)) {
				t.Errorf("Exp(%v) = %v, want %v", v, g, want)
			}
			continue
		}
		if math.Abs(float64(g-want)) > 3e-7*float64(want) {
			t.Errorf("Exp(%v) = %v, want %v", v, g, want)
		}
	}
}

func TestExpSubSum(t *testing.T) {
	for _, n := range []int{1, 5, 16, 31, 64, 1027} {
		x := kerneltest.Rand(uint64(n), n, 3)
		m := Max(x)
		got := make([]float32, n)
		s := ExpSubSum(got, x, m)
		want := make([]float32, n)
		var ws float64
		for i, v := range x {
			want[i] = float32(math.Exp(float64(v - m)))
			ws += float64(want[i])
		}
		kerneltest.Close(t, "ExpSubSum values", got, want, kerneltest.Tol{Rel: 3e-7})
		kerneltest.Close(t, "ExpSubSum sum", []float32{s}, []float32{float32(ws)}, kerneltest.Tol{Rel: 1e-6 * math.Log2(float64(n)+2)})
		// Go and vector paths agree closely.
		g2 := make([]float32, n)
		s2 := expSubSumGo(g2, x, m)
		kerneltest.Close(t, "Go vs vector", g2, got, kerneltest.Tol{Rel: 3e-7})
		kerneltest.Close(t, "Go vs vector sum", []float32{s2}, []float32{s}, kerneltest.Tol{Rel: 1e-6 * math.Log2(float64(n)+2)})
	}
}

func TestDotAxpyMaxScale(t *testing.T) {
	a := kerneltest.Rand(1, 37, 1)
	b := kerneltest.Rand(2, 37, 1)
	var want float64
	for i := range a {
		want += float64(a[i]) * float64(b[i])
	}
	kerneltest.Close(t, "Dot", []float32{Dot(a, b)}, []float32{float32(want)}, kerneltest.Tol{Abs: 1e-5})
	y := append([]float32(nil), b...)
	Axpy(2, a, y)
	for i := range y {
		if y[i] != b[i]+2*a[i] {
			t.Fatalf("Axpy[%d] = %v, want %v", i, y[i], b[i]+2*a[i])
		}
	}
	if m := Max([]float32{1, 5, -3}); m != 5 {
		t.Fatalf("Max = %v", m)
	}
	if m := Max([]float32{1, float32(math.NaN()), 7}); !math.IsNaN(float64(m)) {
		t.Fatalf("Max with NaN = %v", m)
	}
	Scale(y, 0)
	for _, v := range y {
		if v != 0 {
			t.Fatal("Scale by 0")
		}
	}
}

func BenchmarkExp(b *testing.B) {
	x := kerneltest.Rand(1, 4096, 3)
	d := make([]float32, 4096)
	b.Run("path=vector", func(b *testing.B) {
		for b.Loop() {
			ExpSubSum(d, x, 1)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/elem")
	})
	b.Run("path=go", func(b *testing.B) {
		for b.Loop() {
			expSubSumGo(d, x, 1)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/elem")
	})
}

// The column kernels (assembly for widths that are multiples of 16) must
// match the plain loops for every width and row count.
func TestColumnOps(t *testing.T) {
	for _, w := range []int{1, 7, 16, 32, 48} {
		for _, rows := range []int{0, 1, 5, 33} {
			x := kerneltest.Rand(uint64(w*100+rows), rows*w, 2)
			y := kerneltest.Rand(uint64(w*100+rows+1), rows*w, 2)
			m := kerneltest.Rand(7, w, 1)
			// reference loops
			wantM := append([]float32(nil), m...)
			wantE := make([]float32, rows*w)
			wantS := make([]float32, w)
			wantD := make([]float32, w)
			wantG := append([]float32(nil), y...)
			for r := range rows {
				for c := range w {
					v := x[r*w+c]
					wantM[c] = max(wantM[c], v)
					wantE[r*w+c] = float32(math.Exp(float64(v - m[c])))
					wantS[c] += wantE[r*w+c]
					wantD[c] += x[r*w+c] * y[r*w+c]
				}
			}
			for r := range rows {
				for c := range w {
					wantG[r*w+c] = 0.5 * x[r*w+c] * (y[r*w+c] - m[c])
				}
			}
			gotM := append([]float32(nil), m...)
			MaxCols(gotM, x)
			kerneltest.Identical(t, "MaxCols", gotM, wantM)
			gotE := make([]float32, rows*w)
			gotS := make([]float32, w)
			ExpSubCols(gotE, x, m, gotS)
			kerneltest.Close(t, "ExpSubCols", gotE, wantE, kerneltest.Tol{Rel: 3e-7})
			kerneltest.Close(t, "ExpSubCols sums", gotS, wantS, kerneltest.Tol{Rel: 1e-6})
			gotD := make([]float32, w)
			DotCols(gotD, x, y)
			kerneltest.Close(t, "DotCols", gotD, wantD, kerneltest.Tol{Abs: 1e-5, Rel: 1e-5})
			gotG := append([]float32(nil), y...)
			SoftmaxGradCols(gotG, x, m, 0.5)
			kerneltest.Close(t, "SoftmaxGradCols", gotG, wantG, kerneltest.Tol{Abs: 1e-6, Rel: 1e-6})
			sc := append([]float32(nil), x...)
			ScaleCols(sc, m)
			for r := range rows {
				for c := range w {
					if sc[r*w+c] != x[r*w+c]*m[c] {
						t.Fatalf("ScaleCols w=%d [%d,%d]", w, r, c)
					}
				}
			}
		}
	}
}
