package attention

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Adapters that put each kernel through the conformance suite
// (attntest.Run) and the benchmarks (attntest.Bench). Each keeps the
// forward's inputs and cache for its backward, as a layer would.

// call remembers one forward's inputs for the backward.
type call struct {
	q, k, v *tensor.Tensor
	mask    []bool
	opt     Options
}

// dims4 returns t's shape if t is a well-formed rank-4 tensor.
func dims4(t *tensor.Tensor) (b, h, n, d int, ok bool) {
	if t == nil || t.Rank() != 4 || tensor.Numel(t.Shape) != len(t.Data) {
		return 0, 0, 0, 0, false
	}
	return t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3], true
}

// resize returns t if it has the given shape, else a new tensor.
func resize(t *tensor.Tensor, shape ...int) *tensor.Tensor {
	if t != nil && tensor.SameShape(t.Shape, shape) {
		return t
	}
	return tensor.New(shape...)
}

// fullImpl is FullForward and FullBackward, or with grouped set
// FullGroupedForward and FullGroupedBackward.
type fullImpl struct {
	call
	grouped bool
	att     *tensor.Tensor // CacheShape(B, H, Tq, Tk)
}

func (f *fullImpl) Caps() attntest.Caps {
	return attntest.Caps{Causal: true, KeyMask: true, KVHeads: f.grouped, Cross: true, Exact: true}
}

func (f *fullImpl) Forward(out, q, k, v *tensor.Tensor, mask []bool, causal bool) error {
	att := f.att
	if b, h, tq, _, ok := dims4(q); ok {
		if _, _, tk, _, ok := dims4(k); ok {
			att = resize(att, CacheShape(b, h, tq, tk)...)
			f.att = att
		}
	}
	f.call = call{q, k, v, mask, Options{Causal: causal}}
	if f.grouped {
		return FullGroupedForward(out, att, q, k, v, mask, f.opt)
	}
	return FullForward(out, att, q, k, v, mask, f.opt)
}

func (f *fullImpl) Backward(dq, dk, dv, dout *tensor.Tensor) error {
	if f.grouped {
		return FullGroupedBackward(dq, dk, dv, dout, f.q, f.k, f.v, f.att, f.mask, f.opt)
	}
	return FullBackward(dq, dk, dv, dout, f.q, f.k, f.v, f.att, f.mask, f.opt)
}

func (f *fullImpl) Bytes() int { return 4 * len(f.att.Data) }

func TestConformanceFull(t *testing.T) { attntest.Run(t, &fullImpl{}) }

func TestConformanceFullGrouped(t *testing.T) { attntest.Run(t, &fullImpl{grouped: true}) }

type flashImpl struct {
	call
	out *tensor.Tensor // the forward's output, read by the backward
	lse *tensor.Tensor // LSEShape(B, H, Tq)
}

func (f *flashImpl) Caps() attntest.Caps {
	return attntest.Caps{Causal: true, KeyMask: true, KVHeads: true, Cross: true, Exact: true}
}

func (f *flashImpl) Forward(out, q, k, v *tensor.Tensor, mask []bool, causal bool) error {
	lse := f.lse
	if b, h, tq, _, ok := dims4(q); ok {
		lse = resize(lse, LSEShape(b, h, tq)...)
		f.lse = lse
	}
	f.call, f.out = call{q, k, v, mask, Options{Causal: causal}}, out
	return FlashForward(out, lse, q, k, v, mask, f.opt)
}

func (f *flashImpl) Backward(dq, dk, dv, dout *tensor.Tensor) error {
	return FlashBackward(dq, dk, dv, dout, f.q, f.k, f.v, f.out, f.lse, f.mask, f.opt)
}

func (f *flashImpl) Bytes() int { return 4 * len(f.lse.Data) }

func TestConformanceFlash(t *testing.T) { attntest.Run(t, &flashImpl{}) }
