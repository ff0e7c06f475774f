package nn

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// pointwiseKernel is one element-wise activation with its float64
// reference function and derivative.
type pointwiseKernel struct {
	name      string
	forward   func(out, inp *tensor.Tensor) error
	backward  func(dinp, inp, dout *tensor.Tensor) error
	ref, grad func(x float64) float64
	kinks     []float32 // points where the derivative jumps; FD inputs avoid them
}

var pointwiseKernels = []pointwiseKernel{
	{
		name:     "GELUTanh",
		forward:  func(out, inp *tensor.Tensor) error { return GELUForward(out, inp, GELUTanh) },
		backward: func(dinp, inp, dout *tensor.Tensor) error { return GELUBackward(dinp, inp, dout, GELUTanh) },
		ref:      func(x float64) float64 { return geluNaive(x, GELUTanh) },
		grad:     func(x float64) float64 { return geluGradNaive(x, GELUTanh) },
	},
	{
		name:     "GELUErf",
		forward:  func(out, inp *tensor.Tensor) error { return GELUForward(out, inp, GELUErf) },
		backward: func(dinp, inp, dout *tensor.Tensor) error { return GELUBackward(dinp, inp, dout, GELUErf) },
		ref:      func(x float64) float64 { return geluNaive(x, GELUErf) },
		grad:     func(x float64) float64 { return geluGradNaive(x, GELUErf) },
	},
	{
		name:     "ReLU",
		forward:  ReLUForward,
		backward: ReLUBackward,
		ref:      func(x float64) float64 { return math.Max(x, 0) },
		grad: func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return 0
		},
		kinks: []float32{0},
	},
	{name: "SiLU", forward: SiLUForward, backward: SiLUBackward, ref: siluNaive, grad: siluGradNaive},
	{name: "Softplus", forward: SoftplusForward, backward: SoftplusBackward, ref: softplusNaive, grad: softplusGradNaive,
		kinks: []float32{softplusThreshold}},
}

// pointwiseInputs returns n random values of standard deviation 3 followed
// by fixed awkward ones: zero, tiny, large of both signs and both sides of
// softplus's threshold. Lengths cross the kernels' chunk of 256.
func pointwiseInputs(seed uint64, n int) *tensor.Tensor {
	special := []float32{0, 1e-6, -1e-6, 0.5, -0.5, 5, -5, 12, -12, 19.9, 20.1, 30, -30, 80, -80, -200}
	x := randT(seed, 3, n+len(special))
	copy(x.Data[n:], special)
	return x
}

func TestPointwiseForwardMatchesReference(t *testing.T) {
	for _, k := range pointwiseKernels {
		for i, n := range []int{1, 7, 33, 130, 256, 600} {
			inp := pointwiseInputs(uint64(i), n)
			out := filled(9, inp.Shape...)
			must(t, k.forward(out, inp))
			want := make([]float32, inp.Len())
			for j, v := range inp.Data {
				want[j] = float32(k.ref(float64(v)))
			}
			kerneltest.Close(t, k.name+" out "+shapeName(inp.Shape...), out.Data, want, refTol)
		}
	}
}

func TestPointwiseBackwardMatchesReference(t *testing.T) {
	for _, k := range pointwiseKernels {
		for i, n := range []int{1, 7, 33, 130, 256, 600} {
			inp := pointwiseInputs(uint64(i), n)
			dout := randT(uint64(i+100), 1, inp.Shape...)
			dinp := randT(uint64(i+200), 1, inp.Shape...) // the backward must add to it
			want := make([]float32, inp.Len())
			for j, v := range inp.Data {
				want[j] = dinp.Data[j] + float32(k.grad(float64(v))*float64(dout.Data[j]))
			}
			must(t, k.backward(dinp, inp, dout))
			kerneltest.Close(t, k.name+" dinp "+shapeName(inp.Shape...), dinp.Data, want, refTol)
			must(t, k.backward(nil, inp, dout)) // nil dinp: nothing to do, no error
		}
	}
}

func TestPointwiseGradients(t *testing.T) {
	for i, k := range pointwiseKernels {
		t.Run(k.name, func(t *testing.T) {
			inp := randT(uint64(i), 2, 3, 41)
			// Keep finite differences away from kinks, and test both sides
			// of softplus's threshold.
			inp.Data[0], inp.Data[1] = 19.5, 20.5
			for j, v := range inp.Data {
				for _, kink := range k.kinks {
					if d := v - kink; d > -4*fdStep && d < 4*fdStep {
						inp.Data[j] = kink + 0.3
					}
				}
			}
			out, dinp := tensor.New(inp.Shape...), tensor.New(inp.Shape...)
			checkBackward(t, uint64(i), out,
				func() { must(t, k.forward(out, inp)) },
				func(dout *tensor.Tensor) { must(t, k.backward(dinp, inp, dout)) },
				param{"dinp", inp, dinp})
		})
	}
}

func TestGELUUnknownApproximation(t *testing.T) {
	inp := randT(1, 1, 4)
	out := filled(9, 4)
	err := GELUForward(out, inp, GELUApprox(7))
	if err == nil || !containsAll(err.Error(), "nn.GELUForward", "GELUApprox(7)") {
		t.Fatalf("GELUForward with GELUApprox(7): got %v, want an error naming the approximation", err)
	}
	checkUntouched(t, "out", out, 9)
	if err := GELUBackward(out, inp, inp, GELUApprox(-1)); err == nil {
		t.Fatal("GELUBackward with GELUApprox(-1): no error")
	}
	checkUntouched(t, "dinp", out, 9)
}

// Softplus is stable where the definition is not: no overflow for large x,
// no loss to rounding for very negative x.
func TestSoftplusExtremes(t *testing.T) {
	inp := &tensor.Tensor{Shape: []int{4}, Data: []float32{100, 15, -40, -100}}
	out := tensor.New(4)
	must(t, SoftplusForward(out, inp))
	want := []float32{100, float32(math.Log1p(math.Exp(15))), float32(math.Exp(-40)), float32(math.Exp(-100))}
	kerneltest.Close(t, "softplus", out.Data, want, kerneltest.Tol{Rel: 1e-6})
}

// GELU's branch-free forms keep the right limits far from zero, where x³
// overflows and exponentials saturate, and propagate NaN.
func TestGELUExtremes(t *testing.T) {
	nan := float32(math.NaN())
	xs := []float32{1e30, -1e30, 1e10, -1e10, 50, -50, 9.5, -9.5, nan}
	for _, approx := range []GELUApprox{GELUTanh, GELUErf} {
		inp := &tensor.Tensor{Shape: []int{len(xs)}, Data: xs}
		out, dinp, dout := tensor.New(len(xs)), tensor.New(len(xs)), filled(1, len(xs))
		must(t, GELUForward(out, inp, approx))
		must(t, GELUBackward(dinp, inp, dout, approx))
		for i, x := range xs {
			y, d := out.Data[i], dinp.Data[i]
			if x != x {
				if y == y || d == d {
					t.Errorf("%v: GELU(NaN) = %v, GELU'(NaN) = %v, want NaN", approx, y, d)
				}
				continue
			}
			wantY, wantD := float32(0), float32(0)
			if x > 0 {
				wantY, wantD = x, 1
			}
			if math.Abs(float64(y-wantY)) > 1e-15 || math.Abs(float64(d-wantD)) > 1e-15 {
				t.Errorf("%v: x = %v: GELU %v, GELU' %v, want %v and %v", approx, x, y, d, wantY, wantD)
			}
		}
	}
}
