package attntest

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// With q = 0 every visible key gets the same weight: the output is the
// mean of the visible values, and a query that sees nothing gets zero.
func TestReferenceUniformWeights(t *testing.T) {
	const b, h, kvh, tt, d = 2, 2, 1, 4, 3
	in := newInputs(Case{B: b, H: h, KVH: kvh, Tq: tt, Tk: tt, D: d, Causal: true, Pad: true}, 1)
	clear(in.q.Data)
	p := in.problem(nil)
	out, _, _, _ := Reference(p, nil)
	want := make([]float32, len(out))
	for bi := range b {
		for hi := range h {
			for i := range tt {
				n := 0
				for j := range tt {
					if j <= i && in.mask[bi*tt+j] {
						n++
						for x := range d {
							want[((bi*h+hi)*tt+i)*d+x] += in.v.Data[((bi*kvh)*tt+j)*d+x]
						}
					}
				}
				for x := range d {
					if n > 0 {
						want[((bi*h+hi)*tt+i)*d+x] /= float32(n)
					}
				}
			}
		}
	}
	kerneltest.Close(t, "out", out, want, kerneltest.Tol{Abs: 1e-6, Rel: 1e-6})
}

// The reference's gradients against finite differences of its forward.
func TestReferenceGradients(t *testing.T) {
	in := newInputs(Case{B: 2, H: 4, KVH: 2, Tq: 5, Tk: 7, D: 3, Causal: true, Pad: true}, 2)
	p := in.problem(nil)
	_, dq, dk, dv := Reference(p, in.dout.Data)
	loss := func() float64 {
		out, _, _, _ := Reference(p, nil)
		return kerneltest.Dot(out, in.dout.Data)
	}
	tol := kerneltest.Tol{Abs: 1e-3, Rel: 1e-2}
	kerneltest.GradCheck(t, "dq", in.q.Data, dq, 1e-3, tol, loss)
	kerneltest.GradCheck(t, "dk", in.k.Data, dk, 1e-3, tol, loss)
	kerneltest.GradCheck(t, "dv", in.v.Data, dv, 1e-3, tol, loss)
}
