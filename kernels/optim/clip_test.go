package optim

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

func TestClipGradNormHandComputed(t *testing.T) {
	// Gradients [3, 4] and [0, 12]: norm √(9+16+144) = 13.
	ps := []Param{param("a", []float32{0, 0}, []float32{3, 4}), param("b", []float32{0, 0}, []float32{0, 12})}
	if n := ClipGradNorm(ps, 1); n != 13 {
		t.Errorf("norm = %v, want 13", n)
	}
	c := float32(1 / (13 + 1e-6))
	kerneltest.Close(t, "a.Grad", ps[0].Grad.Data, []float32{3 * c, 4 * c}, exact)
	kerneltest.Close(t, "b.Grad", ps[1].Grad.Data, []float32{0, 12 * c}, exact)
	if n := GradNorm(ps); math.Abs(n-1) > 1e-6 {
		t.Errorf("norm after clipping = %v, want 1", n)
	}
}

func TestClipGradNormLeavesSmallGradients(t *testing.T) {
	ps := []Param{param("a", []float32{0, 0}, []float32{3, 4})}
	for _, maxNorm := range []float32{5.0001, 100} {
		if n := ClipGradNorm(ps, maxNorm); n != 5 {
			t.Errorf("norm = %v, want 5", n)
		}
		kerneltest.Identical(t, "a.Grad", ps[0].Grad.Data, []float32{3, 4})
	}
}

func TestClipGradNormAtTheLimit(t *testing.T) {
	// As in PyTorch, a norm equal to maxNorm is still scaled by
	// maxNorm/(norm+1e-6), just under 1.
	ps := []Param{param("a", []float32{0, 0}, []float32{3, 4})}
	ClipGradNorm(ps, 5)
	c := float32(5 / (5 + 1e-6))
	kerneltest.Identical(t, "a.Grad", ps[0].Grad.Data, []float32{3 * c, 4 * c})
}

func TestClipGradNormNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		grad    []float32
		maxNorm float32
		isNaN   bool
	}{
		{[]float32{1, nan}, 1, true},
		{[]float32{1, inf}, 1, false},
		{[]float32{3, 4}, nan, false},
		{[]float32{3, 4}, -1, false},
	} {
		ps := []Param{param("a", []float32{0, 0}, c.grad)}
		n := ClipGradNorm(ps, c.maxNorm)
		if c.isNaN != math.IsNaN(float64(n)) || (!c.isNaN && c.grad[1] == inf && !math.IsInf(float64(n), 1)) {
			t.Errorf("grad %v, maxNorm %v: norm = %v", c.grad, c.maxNorm, n)
		}
		kerneltest.Identical(t, "grad left untouched", ps[0].Grad.Data, c.grad)
	}
}

func TestGradNormIsFloat64(t *testing.T) {
	// 1e20² overflows float32 but not float64.
	ps := []Param{param("a", []float32{0, 0}, []float32{3e20, 4e20})}
	if n := ClipGradNorm(ps, 1); math.Abs(float64(n)/5e20-1) > 1e-6 {
		t.Errorf("norm = %v, want 5e20", n)
	}
	kerneltest.Close(t, "clipped", ps[0].Grad.Data, []float32{0.6, 0.8}, exact)
}

// SumSquares agrees with a running float64 sum to within rounding at every
// length around its eight-way unrolling, and propagates NaN and Inf.
func TestSumSquares(t *testing.T) {
	for n := range 40 {
		x := make([]float32, n)
		var want float64
		for i := range x {
			x[i] = float32(i%7) - 2.5 + float32(i)/64
			want += float64(x[i]) * float64(x[i])
		}
		if got := SumSquares(x); math.Abs(got-want) > 1e-12*math.Max(1, want) {
			t.Errorf("n=%d: SumSquares = %v, want %v", n, got, want)
		}
	}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		for i := range x {
			y := append([]float32(nil), x...)
			y[i] = bad
			if got := SumSquares(y); !math.IsNaN(got) && !math.IsInf(got, 1) {
				t.Errorf("%v at %d: SumSquares = %v, want NaN or +Inf", bad, i, got)
			}
		}
	}
}

// The AVX-512 loop gives the Go loop's bits: lengths with and without a
// tail, values spanning float32's range (squares past it, subnormals).
func TestSumSquaresVectorSameBitsAsGo(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 path on this machine")
	}
	for _, n := range []int{8, 9, 63, 1000, 4096 + 5} {
		x := kerneltest.Rand(uint64(n), n, 1)
		x[0], x[n/2], x[n-1] = 3e38, 1e-45, -2e19
		useAVX512 = false
		want := SumSquares(x)
		useAVX512 = true
		if got := SumSquares(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("n=%d: AVX-512 %v, Go %v", n, got, want)
		}
	}
}

// BenchmarkSumSquares is the gradient norm's sum over the reference
// model's 430,000 parameters, through the Go loop and the AVX-512 one.
func BenchmarkSumSquares(b *testing.B) {
	x := kerneltest.Rand(1, 430_000, 1)
	for _, vec := range []bool{false, true} {
		if vec && !useAVX512 {
			continue
		}
		name := "path=go"
		if vec {
			name = "path=avx512"
		}
		b.Run(name, func(b *testing.B) {
			defer func(v bool) { useAVX512 = v }(useAVX512)
			useAVX512 = vec
			for b.Loop() {
				SumSquares(x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
		})
	}
}
