package vmath

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// A geluKernels is one GELU kernel pair with its float64 references, its
// accuracy by range of x, and its values at the edges; every test below
// runs on each form and each path.
type geluKernels struct {
	name         string
	fwd          func(dst, x []float32)
	grad         func(dx, x, dy []float32)
	ref, gradRef func(x float64) float64
	tols         []geluTol
	edges        []geluEdge
}

// A geluTol holds from lo up to the next row's lo.
type geluTol struct {
	lo        float32
	fwd, grad kerneltest.Tol
}

// A geluEdge is checked at every position of every length in lengths.
// want and grad are exact (NaN: any NaN), unless approx, which asks for
// the form's tolerance against the references instead; clamp9 asks for
// GELU'(-9) as the path computes it (the tanh form's clamp).
type geluEdge struct {
	x, want, grad  float32
	approx, clamp9 bool
}

var geluForms = []geluKernels{
	{"tanh", GELUTanh, GELUTanhGrad, geluRef, geluGradRef, geluTols, geluEdges},
	{"erf", GELUErf, GELUErfGrad, geluErfRef, geluErfGradRef, geluErfTols, geluErfEdges},
}

// geluRef and geluGradRef are GELU (tanh form) and its derivative in
// float64, as x·σ(2u) and s + 2x·u'·(1-s)·s with 1 - s = exp(-2u)·s: the
// identity 0.5·(1 + tanh u) = σ(2u) keeps float64 accurate relative to
// the result in the negative tail, where 1 + tanh u would cancel.
func geluRef(x float64) float64 {
	u := geluK * (x + geluA*x*x*x)
	return x / (1 + math.Exp(-2*u))
}

func geluGradRef(x float64) float64 {
	u := geluK * (x + geluA*x*x*x)
	e := math.Exp(-2 * u)
	s := 1 / (1 + e)
	return s + 2*x*geluK*(1+3*geluA*x*x)*(e*s)*s
}

// geluErfRef and geluErfGradRef are x·Φ(x) and Φ(x) + x·φ(x) in float64,
// with Φ(x) = erfc(-x/√2)/2, accurate in the negative tail.
func geluErfRef(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) }

func geluErfGradRef(x float64) float64 {
	return 0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}

// geluTols: rounding -2u to float32 costs exp(-2u) a relative error of
// about |2u|·2^-23, which the negative tail's results inherit: |2u| is 66
// at x = -9 and 17 at x = -5. Below -9 the results are below 1.3e-28 in
// magnitude: -0 where exp(-2u) overflows, and for the derivative the value
// at -9 (the clamp), -2.5e-27. GELU' crosses 0 near x = -0.75, so from -2
// on it is held to an absolute bound. Each bound is about 1.5 times the
// largest error of any path (TestGELUSweep logs them), except GELU' below
// -9, where the bound just covers the value at the clamp.
var geluTols = []geluTol{
	{-12, kerneltest.Tol{Abs: 1e-30}, kerneltest.Tol{Abs: 3e-27}},
	{-9, kerneltest.Tol{Rel: 1.7e-5}, kerneltest.Tol{Rel: 1.7e-5}},
	{-5, kerneltest.Tol{Rel: 4.2e-6}, kerneltest.Tol{Rel: 4.2e-6}},
	{-2, kerneltest.Tol{Abs: 0x1p-149, Rel: 7.5e-7}, kerneltest.Tol{Abs: 1.1e-7}},
	{0, kerneltest.Tol{Abs: 0x1p-149, Rel: 2.1e-7}, kerneltest.Tol{Abs: 3.2e-7}},
}

// geluErfTols: in the negative tail the result inherits the relative
// error of exp(-x²/2), whose argument rounded to float32 is off by up to
// (x²/2)·2^-24: 1.9e-6 at x = -8, 4.3e-6 at -12; the erfc fit adds at
// most 1.2e-7. From -2 on, GELU' (which crosses 0 near x = -0.75) is held
// to an absolute bound. Each bound is about 1.5 times the largest error
// of any path (TestGELUSweep logs them).
var geluErfTols = []geluTol{
	{-12, kerneltest.Tol{Rel: 6e-6}, kerneltest.Tol{Rel: 6e-6}},
	{-8, kerneltest.Tol{Rel: 1.8e-6}, kerneltest.Tol{Rel: 1.7e-6}},
	{-5, kerneltest.Tol{Rel: 1.1e-6}, kerneltest.Tol{Rel: 1e-6}},
	{-2, kerneltest.Tol{Abs: 0x1p-149, Rel: 5.5e-7}, kerneltest.Tol{Abs: 1.7e-7}},
	{0, kerneltest.Tol{Abs: 0x1p-149, Rel: 3.6e-7}, kerneltest.Tol{Abs: 2.3e-7}},
}

var negZero = float32(math.Copysign(0, -1))

var geluEdges = []geluEdge{
	{x: nan, want: nan, grad: nan},
	{x: inf, want: inf, grad: 1},
	{x: -inf, want: negZero, clamp9: true},
	{x: math.MaxFloat32, want: math.MaxFloat32, grad: 1},
	{x: -math.MaxFloat32, want: negZero, clamp9: true},
	{x: 1e30, want: 1e30, grad: 1}, // x³ overflows
	{x: -1e30, want: negZero, clamp9: true},
	{x: 1e10, want: 1e10, grad: 1},
	{x: -1e10, want: negZero, clamp9: true},
	{x: 20, want: 20, grad: 1},
	{x: -20, want: negZero, clamp9: true}, // exp(-2u) overflows
	{x: 0, want: 0, grad: 0.5},
	{x: negZero, want: negZero, grad: 0.5},
	{x: 1e-45, want: 0, grad: 0.5}, // x/2 rounds to even: 0
	{x: 3e-45, want: 1e-45, grad: 0.5},
}

// geluErfEdges: far from 0 the tail q is 0 (exp(-x²/2) underflows), so
// GELU(x) is x or -0 and GELU'(x) is 1 or 0; ±Inf·0 cannot give NaN.
var geluErfEdges = []geluEdge{
	{x: nan, want: nan, grad: nan},
	{x: inf, want: inf, grad: 1},
	{x: -inf, want: negZero, grad: 0},
	{x: math.MaxFloat32, want: math.MaxFloat32, grad: 1},
	{x: -math.MaxFloat32, want: negZero, grad: 0},
	{x: 1e30, want: 1e30, grad: 1},
	{x: -1e30, want: negZero, grad: 0},
	{x: 20, want: 20, grad: 1},
	{x: -20, want: negZero, grad: 0},
	{x: 0, want: 0, approx: true},
	{x: negZero, want: negZero, approx: true},
	{x: 1e-45, approx: true},
	{x: -1e-45, approx: true},
}

// geluGrid returns x over [-12, 12] in steps of 2^-14, and every 1024th
// float32 of either sign from 0 to 12, dense near 0 and down to subnormals.
func geluGrid() []float32 {
	var x []float32
	for i := -12 << 14; i <= 12<<14; i++ {
		x = append(x, float32(i)/(1<<14))
	}
	for b := uint32(0); b <= math.Float32bits(12); b += 1 << 10 {
		x = append(x, math.Float32frombits(b), -math.Float32frombits(b))
	}
	return x
}

// region returns the row of tols that holds x.
func region(tols []geluTol, x float32) int {
	r := len(tols) - 1
	for r > 0 && x < tols[r].lo {
		r--
	}
	return r
}

// TestGELUSweep checks each form's kernels (the derivative with dy = 1)
// on about 2.5 million inputs against float64, region by region, and logs
// each region's largest absolute and relative error.
func TestGELUSweep(t *testing.T) {
	x := geluGrid()
	dy := make([]float32, len(x))
	for i := range dy {
		dy[i] = 1
	}
	for _, f := range geluForms {
		regions := make([][]int, len(f.tols)) // indices of x in each region
		for i, v := range x {
			r := region(f.tols, v)
			regions[r] = append(regions[r], i)
		}
		t.Run("form="+f.name, func(t *testing.T) {
			forEachPath(t, func(t *testing.T) {
				y, g := make([]float32, len(x)), make([]float32, len(x))
				f.fwd(y, x)
				f.grad(g, x, dy)
				for r, idx := range regions {
					var got, want, gotG, wantG []float32
					for _, i := range idx {
						got, want = append(got, y[i]), append(want, float32(f.ref(float64(x[i]))))
						gotG, wantG = append(gotG, g[i]), append(wantG, float32(f.gradRef(float64(x[i]))))
					}
					name := fmt.Sprintf("%s, x from %v", f.name, f.tols[r].lo)
					kerneltest.Close(t, "GELU "+name, got, want, f.tols[r].fwd)
					kerneltest.Close(t, "GELU' "+name, gotG, wantG, f.tols[r].grad)
					fa, fr := maxErr(got, idx, x, f.ref)
					ga, gr := maxErr(gotG, idx, x, f.gradRef)
					t.Logf("%s (%d inputs): GELU max abs %.3g, rel %.3g; GELU' max abs %.3g, rel %.3g", name, len(idx), fa, fr, ga, gr)
				}
			})
		})
	}
}

// maxErr returns the largest absolute error of got (the values at x[idx])
// against ref, and the largest relative error where |ref| >= 2^-126.
func maxErr(got []float32, idx []int, x []float32, ref func(float64) float64) (abs, rel float64) {
	for k, i := range idx {
		w := ref(float64(x[i]))
		d := math.Abs(float64(got[k]) - w)
		abs = max(abs, d)
		if math.Abs(w) >= 0x1p-126 {
			rel = max(rel, d/math.Abs(w))
		}
	}
	return abs, rel
}

func TestGELUEdges(t *testing.T) {
	if geluGradClamp != math.Float32frombits(0x41100000) {
		t.Fatalf("clampMag's bound 0x41100000 is not geluGradClamp = %v", geluGradClamp)
	}
	for _, f := range geluForms {
		t.Run("form="+f.name, func(t *testing.T) {
			forEachPath(t, func(t *testing.T) {
				g9 := []float32{0}
				f.grad(g9, []float32{-9}, []float32{1})
				if f.name == "tanh" {
					kerneltest.Close(t, "GELU'(-9)", g9, []float32{float32(f.gradRef(-9))}, f.tols[1].grad)
				}
				for _, e := range f.edges {
					if e.clamp9 {
						e.grad = g9[0]
					}
					if e.approx {
						r := f.tols[region(f.tols, e.x)]
						e.want, e.grad = float32(f.ref(float64(e.x))), float32(f.gradRef(float64(e.x)))
						y, g := []float32{0}, []float32{0}
						f.fwd(y, []float32{e.x})
						f.grad(g, []float32{e.x}, []float32{1})
						kerneltest.Close(t, fmt.Sprintf("%s GELU(%v)", f.name, e.x), y, []float32{e.want}, r.fwd)
						kerneltest.Close(t, fmt.Sprintf("%s GELU'(%v)", f.name, e.x), g, []float32{e.grad}, r.grad)
						e.want, e.grad = y[0], g[0] // the same bits at every position
					}
					for _, n := range lengths {
						x, y, dx, dy := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
						for i := range x {
							x[i], dy[i] = e.x, 1
						}
						f.fwd(y, x)
						f.grad(dx, x, dy)
						for i := range n {
							if !sameFloat(y[i], e.want) || !sameFloat(dx[i], e.grad) {
								t.Fatalf("%s, n=%d, at %d: GELU(%v) = %v (%#x), GELU' = %v (%#x); want %v (%#x) and %v (%#x)",
									f.name, n, i, e.x, y[i], math.Float32bits(y[i]), dx[i], math.Float32bits(dx[i]),
									e.want, math.Float32bits(e.want), e.grad, math.Float32bits(e.grad))
							}
						}
					}
				}
			})
		})
	}
}

// sameFloat reports whether a and b have the same bits, or are both NaN.
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || isNaN(a) && isNaN(b)
}

func TestClampMag(t *testing.T) {
	for _, c := range []struct{ in, want float32 }{
		{0, 0}, {1e-40, 1e-40}, {-1e-40, -1e-40}, {3, 3}, {-3, -3},
		{9, 9}, {-9, -9}, {math.Nextafter32(9, 10), 9}, {math.Nextafter32(-9, -10), -9},
		{1e30, 9}, {-1e30, -9}, {inf, 9}, {-inf, -9}, {negZero, negZero}, {nan, nan}, {-nan, -nan},
	} {
		if got := clampMag(c.in); !sameFloat(got, c.want) {
			t.Errorf("clampMag(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestGELUAnyPosition checks that on every path an element's results do
// not depend on where it lies in the slice or how long the slice is (the
// assembly paths pad tails rather than finishing them in Go), that the
// forward works in place, and that the backward adds to dx.
func TestGELUAnyPosition(t *testing.T) {
	const n = 1000
	x, dy, dx0 := kerneltest.Rand(1, n, 3), kerneltest.Rand(2, n, 1), kerneltest.Rand(3, n, 1)
	one := make([]float32, n)
	for i := range one {
		one[i] = 1
	}
	for _, f := range geluForms {
		t.Run("form="+f.name, func(t *testing.T) {
			forEachPath(t, func(t *testing.T) {
				y, g := make([]float32, n), make([]float32, n)
				f.fwd(y, x)
				f.grad(g, x, one) // GELU'(x)
				// dx + GELU'(x)·dy, in float64, then rounded: the vector paths
				// fuse the multiply-add, the Go path may round the product first.
				want := make([]float32, n)
				for i := range want {
					want[i] = float32(float64(dx0[i]) + float64(g[i])*float64(dy[i]))
				}
				dx := append([]float32(nil), dx0...)
				f.grad(dx, x, dy)
				kerneltest.Close(t, f.name+" backward accumulates", dx, want, kerneltest.Tol{Abs: 2.5e-7, Rel: 6e-8})
				for _, off := range []int{0, 1, 5, 13} {
					for _, m := range append(lengths, 64, 100, 333) {
						xs := x[off : off+m]
						ys, ds := make([]float32, m), append([]float32(nil), dx0[off:off+m]...)
						f.fwd(ys, xs)
						f.grad(ds, xs, dy[off:off+m])
						kerneltest.Identical(t, f.name+" forward of a part", ys, y[off:off+m])
						kerneltest.Identical(t, f.name+" backward of a part", ds, dx[off:off+m])
					}
				}
				in := append([]float32(nil), x...)
				f.fwd(in, in)
				kerneltest.Identical(t, f.name+" forward in place", in, y)
			})
		})
	}
}

// BenchmarkGELU measures each form's forward and backward over 4096
// elements on every path.
func BenchmarkGELU(b *testing.B) {
	x, dy := kerneltest.Rand(1, 4096, 3), kerneltest.Rand(2, 4096, 1)
	y := kerneltest.Rand(3, 4096, 1)
	for _, f := range geluForms {
		for _, p := range paths {
			for _, op := range []string{"fwd", "grad"} {
				b.Run("form="+f.name+"/op="+op+"/path="+p.String(), func(b *testing.B) {
					prev, _ := usePath(p.String())
					defer usePath(prev)
					for b.Loop() {
						if op == "fwd" {
							f.fwd(y, x)
						} else {
							f.grad(y, x, dy)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/elem")
				})
			}
		}
	}
}

// GELUTanhGradTo gives the bits of clearing dx and accumulating, on every
// path, at lengths around every block size, ignoring what dx held (NaN
// included), with gradients that round to zero of either sign.
func TestGELUTanhGradTo(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, n := range append(lengths, 64, 100, 333, 1000) {
			x, dy := kerneltest.Rand(1, n, 3), kerneltest.Rand(2, n, 1)
			if n > 2 {
				x[0], dy[0] = -8, -1e-38 // GELU'(-8)·dy rounds to -0
				dy[1] = 0
			}
			want := make([]float32, n)
			GELUTanhGrad(want, x, dy)
			got := make([]float32, n)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			GELUTanhGradTo(got, x, dy)
			kerneltest.Identical(t, fmt.Sprintf("n=%d", n), got, want)
		}
	})
}
