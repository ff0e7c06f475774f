package attention

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// windowImpl is SlidingWindowForward/Backward with global tokens at the
// configured positions that fall inside the sequence.
type windowImpl struct {
	flashImpl
	window, dilation int
	global           []int
	wopt             WindowOptions
}

func (f *windowImpl) Caps() attntest.Caps {
	return attntest.Caps{Causal: true, KeyMask: true, KVHeads: true, Exact: true}
}

// options appends the global positions to dst, so that the warmed-up
// adapter allocates nothing.
func (f *windowImpl) options(t int, causal bool, dst []int) WindowOptions {
	o := WindowOptions{Options: Options{Causal: causal}, Window: f.window, Dilation: f.dilation, Global: dst}
	for _, g := range f.global {
		if g < t {
			o.Global = append(o.Global, g)
		}
	}
	return o
}

func (f *windowImpl) Sees(h, i, j, tq, tk int, causal bool) bool {
	return f.options(tk, causal, nil).Sees(i, j)
}

func (f *windowImpl) Forward(out, q, k, v *tensor.Tensor, mask []bool, causal bool) error {
	lse := f.lse
	t := 0
	if b, h, tq, _, ok := dims4(q); ok {
		lse = resize(lse, LSEShape(b, h, tq)...)
		f.lse, t = lse, tq
	}
	f.call, f.out = call{q, k, v, mask, Options{Causal: causal}}, out
	f.wopt = f.options(t, causal, f.wopt.Global[:0])
	return SlidingWindowForward(out, lse, q, k, v, mask, f.wopt)
}

func (f *windowImpl) Backward(dq, dk, dv, dout *tensor.Tensor) error {
	return SlidingWindowBackward(dq, dk, dv, dout, f.q, f.k, f.v, f.out, f.lse, f.mask, f.wopt)
}

func TestConformanceSlidingWindow(t *testing.T) {
	for _, impl := range []*windowImpl{
		{window: 16, global: []int{0, 5}},
		{window: 9, dilation: 3},
		{window: 40, global: []int{299, 33, 34, 120}},
	} {
		t.Run(fmt.Sprintf("w=%d/dilation=%d/global=%v", impl.window, impl.dilation, impl.global), func(t *testing.T) {
			attntest.Run(t, impl)
		})
	}
}

// A window that covers the whole sequence is full attention.
func TestSlidingWindowCoveringSequenceEqualsFull(t *testing.T) {
	const b, h, tt, d = 2, 2, 150, 32
	for _, causal := range []bool{false, true} {
		t.Run(fmt.Sprintf("causal=%v", causal), func(t *testing.T) {
			q, k, v, dout := randT(1, b, h, tt, d), randT(2, b, h, tt, d), randT(3, b, h, tt, d), randT(4, b, h, tt, d)
			mask := keyMaskFor(attnCase{b: b, tk: tt, pad: true})
			var res [2][]*tensor.Tensor
			for n, impl := range []attntest.Impl{&fullImpl{}, &windowImpl{window: 2 * tt, global: []int{3}}} {
				out, dq, dk, dv := tensor.New(q.Shape...), tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
				if err := impl.Forward(out, q, k, v, mask, causal); err != nil {
					t.Fatal(err)
				}
				if err := impl.Backward(dq, dk, dv, dout); err != nil {
					t.Fatal(err)
				}
				res[n] = []*tensor.Tensor{out, dq, dk, dv}
			}
			for n, name := range []string{"out", "dq", "dk", "dv"} {
				attntest.CloseRel(t, name, res[1][n].Data, res[0][n].Data, 1e-5)
			}
		})
	}
}

// The kernel visits only the band and the global keys: a query block far
// from the global tokens gets one span of w + nr keys at most.
func TestSlidingWindowSpansAreBanded(t *testing.T) {
	p := newWindowPattern(1000, WindowOptions{Window: 64, Global: []int{0, 999}})
	defer windowPatterns.Put(p)
	got := p.spans(nil, 0, 480, 32)
	want := []span{{0, 1, false}, {448, 544, false}, {999, 1000, false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("spans of queries 480..511: got %v, want %v", got, want)
	}
}
