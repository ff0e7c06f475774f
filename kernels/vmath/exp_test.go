package vmath

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// expTol is the accuracy doc.go promises for Exp on every path, against
// exp computed in float64 and rounded to float32: 3e-7 relative (about
// 2.5 ulp) for normal results, one unit of the smallest subnormal (2^-149)
// absolute below them.
var expTol = kerneltest.Tol{Abs: 0x1p-149, Rel: 3e-7}

func expRef(x float32) float32 { return float32(math.Exp(float64(x))) }

// lengths covers the vector body, the 8-lane AVX2 block after the 16-lane
// AVX-512 blocks, and the scalar tail on every path.
var lengths = []int{1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47}

var (
	inf = float32(math.Inf(1))
	nan = float32(math.NaN())
	// The largest float32 whose exp is finite, and the next one up.
	expMaxFinite = math.Float32frombits(0x42b17217) // 88.72283172607422
	expOverflow  = math.Float32frombits(0x42b17218) // 88.72283935546875
)

// expEdges are checked at every position of every length in lengths, so
// each value goes through the vector body and the scalar tail.
var expEdges = []struct {
	x     float32
	exact bool    // want must match bit for bit
	want  float32 // if exact; otherwise within expTol of expRef(x)
}{
	{x: -inf, exact: true, want: 0},
	{x: -200, exact: true, want: 0},
	{x: -104, exact: true, want: 0},
	{x: -103.98, exact: true, want: 0}, // exp < 2^-150: rounds to 0
	{x: -103.97},                       // the smallest subnormal, or 0
	{x: -103.9},                        // subnormal
	{x: -100},
	{x: -90},
	{x: -87.5},
	{x: -87.33654}, // about the smallest normal, 2^-126
	{x: -87.33},
	{x: -50},
	{x: -1},
	{x: -1e-10, exact: true, want: 1},
	{x: float32(math.Copysign(0, -1)), exact: true, want: 1},
	{x: 0, exact: true, want: 1},
	{x: -0x1p-26, exact: true, want: 1},
	{x: 1e-45, exact: true, want: 1}, // a subnormal input
	{x: 0x1p-26, exact: true, want: 1},
	{x: 1e-10, exact: true, want: 1},
	{x: 0.5},
	{x: 1},
	{x: 50},
	{x: 88},
	{x: 88.7},
	{x: 88.72},
	{x: expMaxFinite}, // 3.40279e38, within 1e-5 of the largest float32
	{x: expOverflow, exact: true, want: inf},
	{x: 88.73, exact: true, want: inf},
	{x: 100, exact: true, want: inf},
	{x: inf, exact: true, want: inf},
}

func TestExpEdges(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, e := range expEdges {
			for _, n := range lengths {
				x := make([]float32, n)
				for i := range x {
					x[i] = e.x
				}
				got := make([]float32, n)
				Exp(got, x)
				want := make([]float32, n)
				for i := range want {
					want[i] = expRef(e.x)
				}
				if e.exact {
					for i := range want {
						want[i] = e.want
					}
					if !kerneltest.Identical(t, "Exp", got, want) {
						t.Logf("Exp(%v) with n=%d", e.x, n)
					}
					continue
				}
				if !kerneltest.Close(t, "Exp", got, want, expTol) {
					t.Logf("Exp(%v) with n=%d", e.x, n)
				}
			}
		}
		if g := expOne(expMaxFinite); math.IsInf(float64(g), 0) || g < 3.4027e38 {
			t.Errorf("Exp(%v) = %v, want finite 3.40279e38", expMaxFinite, g)
		}
	})
}

func expOne(x float32) float32 {
	var d [1]float32
	Exp(d[:], []float32{x})
	return d[0]
}

// TestExpSweep runs Exp over about 2^21 inputs in [-105, 89], half spread
// evenly over its float32 bit patterns (dense near 0) and half evenly over
// its values, and logs the largest error in ulp of the result for normal
// results and in units of 2^-149 for subnormal ones.
func TestExpSweep(t *testing.T) {
	lo, hi := math.Float32bits(-105), math.Float32bits(89)
	negZero := math.Float32bits(float32(math.Copysign(0, -1)))
	const step = 1 << 11
	var x []float32
	for b := negZero; b <= lo; b += step { // negative floats from -0 down to -105
		x = append(x, math.Float32frombits(b))
	}
	for b := uint32(0); b <= hi; b += step {
		x = append(x, math.Float32frombits(b))
	}
	const n = 1 << 20
	for i := range n {
		x = append(x, float32(-105+194*float64(i)/n))
	}
	want := make([]float32, len(x))
	for i, v := range x {
		want[i] = expRef(v)
	}
	forEachPath(t, func(t *testing.T) {
		got := make([]float32, len(x))
		Exp(got, x)
		kerneltest.Close(t, "Exp sweep", got, want, expTol)
		var ulpNormal, ulpSub float64
		for i := range got {
			w, g := float64(want[i]), float64(got[i])
			if math.IsInf(w, 1) || w == 0 && g == 0 {
				continue
			}
			if w < 0x1p-126 {
				ulpSub = max(ulpSub, math.Abs(g-w)/0x1p-149)
				continue
			}
			ulp := float64(math.Nextafter32(want[i], inf) - want[i])
			ulpNormal = max(ulpNormal, math.Abs(g-w)/ulp)
		}
		t.Logf("%d inputs: max error %.2f ulp (normal results), %.2f × 2^-149 (subnormal)", len(x), ulpNormal, ulpSub)
	})
}

func TestExpNaN(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, n := range lengths {
			for at := range n {
				x := kerneltest.Rand(uint64(n), n, 3)
				x[at] = nan
				got := make([]float32, n)
				Exp(got, x)
				for i, g := range got {
					if isNaN(g) != (i == at) {
						t.Fatalf("n=%d, NaN at %d: Exp gives %v at %d", n, at, g, i)
					}
				}
				if s := ExpSubSum(got, x, 1); !isNaN(s) {
					t.Fatalf("n=%d, NaN at %d: ExpSubSum sum = %v, want NaN", n, at, s)
				}
			}
			x := kerneltest.Rand(uint64(n), n, 3)
			got := make([]float32, n)
			if s := ExpSubSum(got, x, nan); !isNaN(s) || !isNaN(got[n-1]) || !isNaN(got[0]) {
				t.Fatalf("n=%d: ExpSubSum with m = NaN gives sum %v, values %v", n, s, got)
			}
			for i := range x {
				x[i] = inf
			}
			if s := ExpSubSum(got, x, inf); !isNaN(s) {
				t.Fatalf("n=%d: ExpSubSum(+Inf - +Inf) sum = %v, want NaN", n, s)
			}
		}
	})
}

func isNaN(x float32) bool { return x != x }
