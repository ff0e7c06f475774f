package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
)

// Tol is an elementwise tolerance: |got-want| <= Abs + Rel*|want|.
type Tol struct {
	Abs, Rel float64
}

// Diff describes how two slices differ.
type Diff struct {
	MaxAbs   float64 // largest |got-want|
	Worst    int     // index of the element furthest outside tolerance (or of MaxAbs)
	Failures int     // elements outside tolerance (NaN mismatches included)
}

// Compare measures got against want under tol.
func Compare(got, want []float32, tol Tol) Diff {
	d := Diff{Worst: -1}
	worstExcess := math.Inf(-1)
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsNaN(w) {
			if math.IsNaN(g) != math.IsNaN(w) {
				d.Failures++
				if worstExcess < math.Inf(1) {
					worstExcess, d.Worst = math.Inf(1), i
				}
			}
			continue
		}
		if math.IsInf(w, 0) && g == w {
			continue
		}
		ad := math.Abs(g - w)
		if ad > d.MaxAbs {
			d.MaxAbs = ad
		}
		excess := ad - (tol.Abs + tol.Rel*math.Abs(w))
		if excess > 0 {
			d.Failures++
		}
		if excess > worstExcess {
			worstExcess, d.Worst = excess, i
		}
	}
	return d
}

// Close fails t unless got and want have equal length and every element is
// within tol. The message shows the first few values and the worst element.
func Close(t testing.TB, name string, got, want []float32, tol Tol) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d values, want %d", name, len(got), len(want))
		return false
	}
	d := Compare(got, want, tol)
	if d.Failures == 0 {
		return true
	}
	n := min(len(want), 5)
	t.Errorf("%s: %d of %d values outside tolerance (abs %g, rel %g); max |diff| %g\n  first got  %v\n  first want %v\n  worst [%d]: got %v want %v",
		name, d.Failures, len(want), tol.Abs, tol.Rel, d.MaxAbs, got[:n], want[:n], d.Worst, got[d.Worst], want[d.Worst])
	return false
}

// Identical fails t unless got and want are bit-for-bit equal.
func Identical(t testing.TB, name string, got, want []float32) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d values, want %d", name, len(got), len(want))
		return false
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("%s: not bit-identical at [%d]: %v (%#x) vs %v (%#x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			return false
		}
	}
	return true
}

// Rand returns n normal values of standard deviation std from seed.
func Rand(seed uint64, n int, std float32) []float32 {
	x := make([]float32, n)
	rng.New(seed).FillNormal(x, 0, std)
	return x
}

// Loss is a scalar function of the current contents of some input buffer,
// evaluated in float64 for finite differences.
type Loss func() float64

// Dot returns sum(a*b) in float64: the loss L = <out, w> whose gradient with
// respect to out is w, the usual way to test a backward pass with a random
// upstream gradient.
func Dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// FiniteDiff estimates dL/dx[i] for every i by central differences with
// step h, perturbing x in place and restoring it.
func FiniteDiff(x []float32, h float32, loss Loss) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		lp := loss()
		x[i] = orig - h
		lm := loss()
		x[i] = orig
		// Use the actual perturbation after float32 rounding.
		g[i] = (lp - lm) / (float64(orig+h) - float64(orig-h))
	}
	return g
}

// GradCheck compares an analytic gradient with finite differences of loss
// with respect to x. The test fails if any element differs by more than
// tol; float32 forwards make finite differences noisy, so typical tolerances
// are around Abs 1e-2, Rel 5e-2 with h = 1e-2 (float32) for O(1) values.
func GradCheck(t testing.TB, name string, x []float32, analytic []float32, h float32, tol Tol, loss Loss) bool {
	t.Helper()
	num := FiniteDiff(x, h, loss)
	want := make([]float32, len(num))
	for i, v := range num {
		want[i] = float32(v)
	}
	return Close(t, fmt.Sprintf("%s (analytic vs finite difference)", name), analytic, want, tol)
}

// NoAllocs fails t unless f allocates nothing once warmed up. It measures
// with testing.AllocsPerRun up to three times and passes if any
// measurement is zero: AllocsPerRun counts every allocation in the
// process, and on a loaded machine the runtime itself occasionally
// allocates during a measurement; an allocation in f shows up every time.
func NoAllocs(t testing.TB, name string, runs int, f func()) {
	t.Helper()
	var got float64
	for range 3 {
		if got = testing.AllocsPerRun(runs, f); got == 0 {
			return
		}
	}
	t.Errorf("%s allocated %v times per run once warmed up", name, got)
}
