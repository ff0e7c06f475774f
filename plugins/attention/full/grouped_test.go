package full

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// repeatHeads copies x (B, KVH, T, D) to (B, H, T, D), query head h
// reading key/value head h / (H/KVH).
func repeatHeads(x *tensor.Tensor, h int) *tensor.Tensor {
	b, kvh, tt, d := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out, n := tensor.New(b, h, tt, d), tt*d
	for bi := range b {
		for hh := range h {
			src := (bi*kvh + hh/(h/kvh)) * n
			copy(out.Data[(bi*h+hh)*n:], x.Data[src:src+n])
		}
	}
	return out
}

// sumHeads is repeatHeads' adjoint: the gradients of the query heads that
// share a key/value head, added in head order.
func sumHeads(g *tensor.Tensor, kvh int) *tensor.Tensor {
	b, h, tt, d := g.Shape[0], g.Shape[1], g.Shape[2], g.Shape[3]
	out, n := tensor.New(b, kvh, tt, d), tt*d
	for bi := range b {
		for hh := range h {
			dst := (bi*kvh + hh/(h/kvh)) * n
			for x := range n {
				out.Data[dst+x] += g.Data[(bi*h+hh)*n+x]
			}
		}
	}
	return out
}

// With KVHeads < Heads (GQA, and MQA at KVHeads = 1) the component equals
// full attention on k and v repeated to every query head, bit for bit,
// with dk and dv summed over each group.
func TestGroupedHeadsEqualRepeatedFull(t *testing.T) {
	const maxB, h, maxS, d = 2, 4, 20, 8
	for _, c := range []struct {
		kvh, b, tq, tk int
		causal, pad    bool
	}{
		{2, 2, 20, 20, true, false},
		{1, 2, 20, 20, false, true}, // multi-query
		{2, 1, 6, 13, true, true},   // Tq < Tk, shorter than the spec
		{4, 2, 9, 9, true, true},    // KVHeads = Heads: plain full attention
	} {
		t.Run(fmt.Sprintf("KVH=%d/B=%d/Tq=%d/Tk=%d/causal=%v/pad=%v", c.kvh, c.b, c.tq, c.tk, c.causal, c.pad), func(t *testing.T) {
			r := rng.New(uint64(100*c.kvh + c.tq))
			q, k, v, dout := randT(r, c.b, h, c.tq, d), randT(r, c.b, c.kvh, c.tk, d), randT(r, c.b, c.kvh, c.tk, d), randT(r, c.b, h, c.tq, d)
			var mask []bool
			if c.pad {
				mask = padMask(c.b, c.tk)
			}
			ke, ve := repeatHeads(k, h), repeatHeads(v, h)
			opt := attention.Options{Causal: c.causal}
			want, att := tensor.New(q.Shape...), tensor.New(attention.CacheShape(c.b, h, c.tq, c.tk)...)
			if err := attention.FullForward(want, att, q, ke, ve, mask, opt); err != nil {
				t.Fatal(err)
			}
			wdq, wdke, wdve := tensor.New(q.Shape...), tensor.New(ke.Shape...), tensor.New(ve.Shape...)
			if err := attention.FullBackward(wdq, wdke, wdve, dout, q, ke, ve, att, mask, opt); err != nil {
				t.Fatal(err)
			}
			sp := spec(2, maxB, h, maxS, d, c.causal)
			sp.KVHeads = c.kvh
			a := mustInit(t, nil, sp)
			for range 2 {
				out, err := a.Forward(0, q, k, v, mask)
				if err != nil {
					t.Fatal(err)
				}
				identical(t, "out", out, want)
				dq, dk, dv, err := a.Backward(0, dout)
				if err != nil {
					t.Fatal(err)
				}
				identical(t, "dq", dq, wdq)
				identical(t, "dk", dk, sumHeads(wdke, c.kvh))
				identical(t, "dv", dv, sumHeads(wdve, c.kvh))
			}
		})
	}
}

func TestGroupedAllocatesNothing(t *testing.T) {
	const b, h, kvh, s, d = 2, 4, 1, 24, 8
	r := rng.New(8)
	sp := spec(1, b, h, s, d, true)
	sp.KVHeads = kvh
	a := mustInit(t, nil, sp)
	q, k, v, dout := randT(r, b, h, s, d), randT(r, b, kvh, s, d), randT(r, b, kvh, s, d), randT(r, b, h, s, d)
	step := func() {
		if _, err := a.Forward(0, q, k, v, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := a.Backward(0, dout); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("a warmed-up grouped Forward+Backward allocated %v times", n)
	}
}

// The grouped k and v are checked against KVHeads, not Heads.
func TestGroupedShapes(t *testing.T) {
	sp := sdk.AttentionSpec{Layers: 1, Heads: 4, KVHeads: 2, HeadDim: 4, MaxSeq: 6, Batch: 1}
	a := mustInit(t, nil, sp)
	r := rng.New(9)
	q := randT(r, 1, 4, 6, 4)
	if _, err := a.Forward(0, q, q, q, nil); err == nil {
		t.Error("k with Heads heads was accepted for KVHeads = 2")
	}
}
