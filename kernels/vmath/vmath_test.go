package vmath

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/rng"
)

// forEachPath runs f as a subtest once per path this CPU and build support
// (avx512, avx2, go; only go with -tags purego), with that path selected.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, p := range paths {
		t.Run("path="+p.String(), func(t *testing.T) {
			prev, ok := usePath(p.String())
			if !ok {
				t.Fatalf("usePath(%q) failed", p)
			}
			defer usePath(prev)
			f(t)
		})
	}
}

func TestPaths(t *testing.T) {
	var names []string
	for _, p := range paths {
		names = append(names, p.String())
	}
	t.Logf("paths: %v (default %v)", names, impl)
	if paths[len(paths)-1] != pathGo || impl != paths[0] {
		t.Fatalf("paths %v, impl %v: want the Go path last and the first path in use", names, impl)
	}
	if prev, ok := usePath("sse9"); ok || prev != impl.String() {
		t.Fatalf("usePath of an unknown path = %q, %v", prev, ok)
	}
}

// The kernels must not make their arguments escape: nn vectorises
// exponentials through stack buffers.
func TestNoAllocs(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(10, func() {
			var x, m, s [48]float32
			Exp(x[:], x[:])
			ExpSubSum(x[:], x[:], 1)
			MaxCols(m[:24], x[:])
			ExpSubCols(x[:], x[:], m[:24], s[:24])
			ScaleCols(x[:], s[:24])
			DotCols(s[:24], x[:], x[:])
			SoftmaxGradCols(x[:], x[:], s[:24], 1)
			GELUTanh(x[:45], x[:45])
			GELUTanhGrad(m[:45], x[:45], s[:45])
			GELUErf(x[:45], x[:45])
			GELUErfGrad(m[:45], x[:45], s[:45])
		})
		if allocs != 0 {
			t.Fatalf("%v allocations per run, want 0", allocs)
		}
	})
}

func TestExpAccuracy(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rng.New(3)
		for _, n := range append(lengths, 1000, 1027) {
			x := make([]float32, n)
			r.FillUniform(x, -87, 88.5)
			x[0] = 0
			got := make([]float32, n)
			Exp(got, x)
			want := make([]float32, n)
			for i, v := range x {
				want[i] = expRef(v)
			}
			kerneltest.Close(t, "Exp", got, want, expTol)
			// in place
			Exp(x, x)
			kerneltest.Identical(t, "Exp in place", x, got)
		}
	})
}

func TestExpSubSum(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, n := range append(lengths, 64, 1027) {
			x := kerneltest.Rand(uint64(n), n, 3)
			m := Max(x)
			got := make([]float32, n)
			s := ExpSubSum(got, x, m)
			want := make([]float32, n)
			var ws float64
			for i, v := range x {
				want[i] = expRef(v - m)
				ws += math.Exp(float64(v - m))
			}
			kerneltest.Close(t, "ExpSubSum values", got, want, expTol)
			kerneltest.Close(t, "ExpSubSum sum", []float32{s}, []float32{float32(ws)}, kerneltest.Tol{Rel: 1e-6 * math.Log2(float64(n)+2)})
			// The Go twin agrees closely.
			g2 := make([]float32, n)
			s2 := expSubSumGo(g2, x, m)
			kerneltest.Close(t, "Go vs this path", g2, got, kerneltest.Tol{Rel: 3e-7})
			kerneltest.Close(t, "Go vs this path sum", []float32{s2}, []float32{s}, kerneltest.Tol{Rel: 1e-6 * math.Log2(float64(n)+2)})
		}
	})
}

// TestVectorPathsAgree checks that the AVX2 and AVX-512 kernels give the
// same bits, as exp_avx2_amd64.s and the GELU files promise (GELU on
// 2^16 - 3 elements, so that 16-, 8-lane blocks and the padded tail run).
// The column kernels agree too: both accumulate each column row by row,
// with the same fused operations.
func TestVectorPathsAgree(t *testing.T) {
	var have [3]bool
	for _, p := range paths {
		have[p] = true
	}
	if !have[pathAVX2] || !have[pathAVX512] {
		t.Skip("needs both the AVX2 and the AVX-512 path")
	}
	x := make([]float32, 1<<16)
	rng.New(9).FillUniform(x, -110, 95)
	copy(x, []float32{-inf, inf, nan, 0, -104, -103.97, expMaxFinite, expOverflow})
	const w = 48 // 3 AVX-512 strips, 6 AVX2 strips
	run := func(p path) (y, sums, dots, gelu, grad, erf, erfGrad []float32) {
		prev, _ := usePath(p.String())
		defer usePath(prev)
		y = make([]float32, len(x))
		Exp(y, x)
		n := len(x) - 3
		gelu, grad = make([]float32, n), make([]float32, n)
		GELUTanh(gelu, x[:n])
		GELUTanhGrad(grad, x[:n], y[:n])
		erf, erfGrad = make([]float32, n), make([]float32, n)
		GELUErf(erf, x[:n])
		GELUErfGrad(erfGrad, x[:n], y[:n])
		sums, dots = make([]float32, w), make([]float32, w)
		c := kerneltest.Rand(5, 8*w, 1)
		ExpSubCols(c, c, y[:w], sums)
		DotCols(dots, c, x[:8*w])
		return y, sums, dots, gelu, grad, erf, erfGrad
	}
	y2, s2, d2, g2, gg2, e2, eg2 := run(pathAVX2)
	y5, s5, d5, g5, gg5, e5, eg5 := run(pathAVX512)
	kerneltest.Identical(t, "Exp avx2 vs avx512", y2, y5)
	kerneltest.Identical(t, "ExpSubCols sums avx2 vs avx512", s2, s5)
	kerneltest.Identical(t, "DotCols avx2 vs avx512", d2, d5)
	kerneltest.Identical(t, "GELUTanh avx2 vs avx512", g2, g5)
	kerneltest.Identical(t, "GELUTanhGrad avx2 vs avx512", gg2, gg5)
	kerneltest.Identical(t, "GELUErf avx2 vs avx512", e2, e5)
	kerneltest.Identical(t, "GELUErfGrad avx2 vs avx512", eg2, eg5)
}

func TestDotAxpyMaxScale(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		// Lengths around the 16- and 32-element strides of the AVX-512
		// path (one accumulator or both, and a Go tail).
		for _, n := range []int{0, 1, 15, 16, 37, 48, 64, 256, 1001} {
			a := kerneltest.Rand(uint64(n), n, 1)
			b := kerneltest.Rand(uint64(n)+1, n, 1)
			var want float64
			for i := range a {
				want += float64(a[i]) * float64(b[i])
			}
			kerneltest.Close(t, fmt.Sprintf("Dot/n=%d", n), []float32{Dot(a, b)}, []float32{float32(want)}, kerneltest.Tol{Abs: 1e-5 * float64(n+1), Rel: 1e-5})
		}
		a := kerneltest.Rand(1, 37, 1)
		b := kerneltest.Rand(2, 37, 1)
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
		if m := Max([]float32{1, nan, 7}); !isNaN(m) {
			t.Fatalf("Max with NaN = %v", m)
		}
		Scale(y, 0)
		for _, v := range y {
			if v != 0 {
				t.Fatal("Scale by 0")
			}
		}
	})
}

// BenchmarkExp measures ExpSubSum over 4096 elements on every path.
func BenchmarkExp(b *testing.B) {
	x := kerneltest.Rand(1, 4096, 3)
	d := make([]float32, 4096)
	for _, p := range paths {
		b.Run("path="+p.String(), func(b *testing.B) {
			prev, _ := usePath(p.String())
			defer usePath(prev)
			for b.Loop() {
				ExpSubSum(d, x, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/elem")
		})
	}
}

// AddSum4 gives the Go loop's bits on every path, over lengths around the
// 16-lane stride.
func TestAddSum4(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 15, 16, 17, 48, 70} {
			a, b := kerneltest.Rand(1, n, 1), kerneltest.Rand(2, n, 1)
			c, d := kerneltest.Rand(3, n, 1), kerneltest.Rand(4, n, 1)
			acc := kerneltest.Rand(5, n, 1)
			want := append([]float32(nil), acc...)
			for i := range want {
				want[i] += (a[i] + b[i]) + (c[i] + d[i])
			}
			AddSum4(acc, a, b, c, d)
			kerneltest.Identical(t, fmt.Sprintf("n=%d", n), acc, want)
		}
	})
}
