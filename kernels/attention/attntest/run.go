package attntest

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Run puts impl through the whole suite (see the package comment), one
// subtest per check and case.
func Run(t *testing.T, impl Impl) {
	t.Run("errors", func(t *testing.T) { checkErrors(t, impl) })
	for i, c := range Cases {
		if !c.supported(impl.Caps()) {
			continue
		}
		t.Run(c.String(), func(t *testing.T) { checkCase(t, impl, c, uint64(100*i+1)) })
	}
	t.Run("allocs", func(t *testing.T) { checkAllocs(t, impl) })
}

func checkCase(t *testing.T, impl Impl, c Case, seed uint64) {
	caps := impl.Caps()
	in := newInputs(c, seed)
	ref, err := in.run(impl)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ref.all() {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("non-finite value %v in the output or gradients", x)
		}
	}
	if caps.Exact {
		checkExact(t, impl, in, ref)
	}
	checkDeterminism(t, impl, in, ref)
	checkAccumulates(t, impl, in, ref)
	if c.Causal && c.Tq > 1 {
		checkCausalLeakage(t, impl, in, ref)
	}
	if c.Pad {
		checkKeyMask(t, impl, in, ref)
	}
	if len(in.q.Data) <= 1200 {
		checkGradients(t, impl, in)
	}
}

// CloseRel fails t unless every element of got is within rel·max|want| of
// want: relative error measured against the tensor's scale, which is how
// "equal within 1e-5 relative error" is meant for whole tensors.
func CloseRel(t testing.TB, name string, got, want []float32, rel float64) bool {
	t.Helper()
	var scale float64
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	return kerneltest.Close(t, name, got, want, kerneltest.Tol{Abs: rel * math.Max(scale, 1e-30), Rel: rel})
}

func checkExact(t *testing.T, impl Impl, in *inputs, got *result) {
	t.Helper()
	rel := impl.Caps().ExactRel
	if rel == 0 {
		rel = 1e-5
	}
	out, dq, dk, dv := Reference(in.problem(impl), in.dout.Data)
	CloseRel(t, "out vs reference", got.out.Data, out, rel)
	CloseRel(t, "dq vs reference", got.dq.Data, dq, rel)
	CloseRel(t, "dk vs reference", got.dk.Data, dk, rel)
	CloseRel(t, "dv vs reference", got.dv.Data, dv, rel)
}

func checkDeterminism(t *testing.T, impl Impl, in *inputs, ref *result) {
	t.Helper()
	for _, th := range []int{1, 2, 1} {
		prev := parallel.SetThreads(th)
		r, err := in.run(impl)
		parallel.SetThreads(prev)
		if err != nil {
			t.Fatal(err)
		}
		if !kerneltest.Identical(t, fmt.Sprintf("rerun with %d threads", th), r.all(), ref.all()) {
			return
		}
	}
}

func checkAccumulates(t *testing.T, impl Impl, in *inputs, ref *result) {
	t.Helper()
	r, err := in.run(impl)
	if err != nil {
		t.Fatal(err)
	}
	if err := impl.Backward(r.dq, r.dk, r.dv, in.dout); err != nil {
		t.Fatal(err)
	}
	twice := func(x []float32) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = 2 * v
		}
		return y
	}
	tol := kerneltest.Tol{Abs: 1e-6, Rel: 1e-5}
	kerneltest.Close(t, "dq after two backwards", r.dq.Data, twice(ref.dq.Data), tol)
	kerneltest.Close(t, "dk after two backwards", r.dk.Data, twice(ref.dk.Data), tol)
	kerneltest.Close(t, "dv after two backwards", r.dv.Data, twice(ref.dv.Data), tol)
}

// checkCausalLeakage changes every query, key and value after position i
// and requires outputs 0..i to stay bit-identical.
func checkCausalLeakage(t *testing.T, impl Impl, in *inputs, ref *result) {
	t.Helper()
	c := in.c
	off := c.Tk - c.Tq
	for _, i := range []int{0, c.Tq / 2, c.Tq - 2} {
		p := *in
		p.q, p.k, p.v = in.q.Clone(), in.k.Clone(), in.v.Clone()
		noise := randTensor(uint64(7+i), len(p.q.Data)+2*len(p.k.Data))
		perturbRows(p.q.Data, c.D, c.Tq, func(r int) bool { return r > i }, noise.Data)
		perturbRows(p.k.Data, c.D, c.Tk, func(r int) bool { return r > i+off }, noise.Data[len(p.q.Data):])
		perturbRows(p.v.Data, c.D, c.Tk, func(r int) bool { return r > i+off }, noise.Data[len(p.q.Data)+len(p.k.Data):])
		r, err := p.run(impl)
		if err != nil {
			t.Fatal(err)
		}
		for bh := range c.B * c.H {
			lo := bh * c.Tq * c.D
			if !kerneltest.Identical(t, fmt.Sprintf("outputs 0..%d of (batch, head) %d after changing tokens past %d", i, bh, i),
				r.out.Data[lo:lo+(i+1)*c.D], ref.out.Data[lo:lo+(i+1)*c.D]) {
				return
			}
		}
	}
}

// perturbRows adds noise to the rows r (of every (batch, head) block of
// t rows of width d) for which pick(r) holds.
func perturbRows(x []float32, d, t int, pick func(int) bool, noise []float32) {
	for o := 0; o < len(x); o += d {
		if pick((o / d) % t) {
			for e := range d {
				x[o+e] += noise[o+e]
			}
		}
	}
}

// checkKeyMask changes the masked keys and values and requires the
// outputs to stay bit-identical, the masked keys' gradients to be zero,
// and queries that see no key at all to get zero outputs.
func checkKeyMask(t *testing.T, impl Impl, in *inputs, ref *result) {
	t.Helper()
	c := in.c
	p := *in
	p.k, p.v = in.k.Clone(), in.v.Clone()
	noise := randTensor(99, 2*len(p.k.Data))
	for o := 0; o < len(p.k.Data); o += c.D {
		row := o / c.D
		b, j := row/(c.KVH*c.Tk), row%c.Tk
		if in.mask[b*c.Tk+j] {
			continue
		}
		for e := range c.D {
			p.k.Data[o+e] += 10 * noise.Data[o+e]
			p.v.Data[o+e] += 10 * noise.Data[len(p.k.Data)+o+e]
			if ref.dk.Data[o+e] != 0 || ref.dv.Data[o+e] != 0 {
				t.Fatalf("masked key %d of batch %d has gradient dk %v, dv %v", j, b, ref.dk.Data[o+e], ref.dv.Data[o+e])
			}
		}
	}
	r, err := p.run(impl)
	if err != nil {
		t.Fatal(err)
	}
	kerneltest.Identical(t, "out after changing masked keys and values", r.out.Data, ref.out.Data)
	for b := range c.B {
		seen := false
		for j := range c.Tk {
			seen = seen || in.mask[b*c.Tk+j]
		}
		lo, n := b*c.H*c.Tq*c.D, c.H*c.Tq*c.D
		if !seen {
			kerneltest.Identical(t, fmt.Sprintf("out of batch %d, whose keys are all masked", b), ref.out.Data[lo:lo+n], make([]float32, n))
		}
	}
}

func checkGradients(t *testing.T, impl Impl, in *inputs) {
	t.Helper()
	tol := impl.Caps().GradTol
	if tol == (kerneltest.Tol{}) {
		tol = kerneltest.Tol{Abs: 5e-3, Rel: 2e-2}
	}
	r, err := in.run(impl)
	if err != nil {
		t.Fatal(err)
	}
	out := tensor.New(in.q.Shape...)
	loss := func() float64 {
		if err := impl.Forward(out, in.q, in.k, in.v, in.mask, in.c.Causal); err != nil {
			t.Fatal(err)
		}
		return kerneltest.Dot(out.Data, in.dout.Data)
	}
	kerneltest.GradCheck(t, "dq", in.q.Data, r.dq.Data, 1e-2, tol, loss)
	kerneltest.GradCheck(t, "dk", in.k.Data, r.dk.Data, 1e-2, tol, loss)
	kerneltest.GradCheck(t, "dv", in.v.Data, r.dv.Data, 1e-2, tol, loss)
}

func checkAllocs(t *testing.T, impl Impl) {
	caps := impl.Caps()
	c := Case{B: 2, H: 4, KVH: 4, Tq: 96, Tk: 96, D: 16, Causal: caps.Causal, Pad: caps.KeyMask}
	if caps.KVHeads {
		c.KVH = 2
	}
	in := newInputs(c, 3)
	r, err := in.run(impl)
	if err != nil {
		t.Fatal(err)
	}
	kerneltest.NoAllocs(t, "Forward+Backward", 5, func() {
		if err := impl.Forward(r.out, in.q, in.k, in.v, in.mask, c.Causal); err != nil {
			t.Fatal(err)
		}
		if err := impl.Backward(r.dq, r.dk, r.dv, in.dout); err != nil {
			t.Fatal(err)
		}
	})
}
