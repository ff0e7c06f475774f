package attention

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// repeatHeads copies x (B, KVH, T, D) to (B, H, T, D), head h taking
// key/value head h / (H/KVH).
func repeatHeads(x *tensor.Tensor, h int) *tensor.Tensor {
	b, kvh, n := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	y := tensor.New(b, h, x.Shape[2], x.Shape[3])
	for bi := range b {
		for hi := range h {
			src := (bi*kvh + hi/(h/kvh)) * n
			copy(y.Data[(bi*h+hi)*n:], x.Data[src:src+n])
		}
	}
	return y
}

// sumHeads is repeatHeads' adjoint: (B, H, T, D) summed to (B, KVH, T, D).
func sumHeads(y *tensor.Tensor, kvh int) *tensor.Tensor {
	b, h, n := y.Shape[0], y.Shape[1], y.Shape[2]*y.Shape[3]
	x := tensor.New(b, kvh, y.Shape[2], y.Shape[3])
	for bi := range b {
		for hi := range h {
			dst := (bi*kvh + hi/(h/kvh)) * n
			for i := range n {
				x.Data[dst+i] += y.Data[(bi*h+hi)*n+i]
			}
		}
	}
	return x
}

// Grouped-query attention equals full attention on k and v repeated to
// every query head, with dk and dv summed over each group; with
// kv_heads == heads it is full attention itself.
func TestGroupedEqualsFullOnRepeatedHeads(t *testing.T) {
	const b, h, tt, d = 2, 4, 77, 16
	for _, kvh := range []int{4, 2, 1} {
		for _, causal := range []bool{false, true} {
			t.Run(fmt.Sprintf("kv_heads=%d/causal=%v", kvh, causal), func(t *testing.T) {
				q, k, v := randT(1, b, h, tt, d), randT(2, b, kvh, tt, d), randT(3, b, kvh, tt, d)
				dout := randT(4, b, h, tt, d)
				mask := keyMaskFor(attnCase{b: b, tk: tt, pad: true})
				ke, ve := repeatHeads(k, h), repeatHeads(v, h)
				want := &fullImpl{}
				wo, wdq, wdk, wdv := tensor.New(q.Shape...), tensor.New(q.Shape...), tensor.New(ke.Shape...), tensor.New(ve.Shape...)
				if err := want.Forward(wo, q, ke, ve, mask, causal); err != nil {
					t.Fatal(err)
				}
				if err := want.Backward(wdq, wdk, wdv, dout); err != nil {
					t.Fatal(err)
				}
				wdk, wdv = sumHeads(wdk, kvh), sumHeads(wdv, kvh)
				for _, impl := range []attntest.Impl{&fullImpl{grouped: true}, &flashImpl{}} {
					out, dq, dk, dv := tensor.New(q.Shape...), tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
					if err := impl.Forward(out, q, k, v, mask, causal); err != nil {
						t.Fatal(err)
					}
					if err := impl.Backward(dq, dk, dv, dout); err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("%T", impl)
					if _, ok := impl.(*fullImpl); ok && kvh == h {
						kerneltest.Identical(t, name+" out", out.Data, wo.Data)
						kerneltest.Identical(t, name+" dk", dk.Data, wdk.Data)
					}
					attntest.CloseRel(t, name+" out", out.Data, wo.Data, 1e-5)
					attntest.CloseRel(t, name+" dq", dq.Data, wdq.Data, 1e-5)
					attntest.CloseRel(t, name+" dk", dk.Data, wdk.Data, 1e-5)
					attntest.CloseRel(t, name+" dv", dv.Data, wdv.Data, 1e-5)
				}
			})
		}
	}
}
