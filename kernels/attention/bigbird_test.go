package attention

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// bigbirdImpl is BigBirdForward/Backward with a fixed block size, number
// of random blocks and seed.
type bigbirdImpl struct {
	flashImpl
	block, random int
	bopt          BigBirdOptions
	layouts       map[[3]int][]bool // by (head, Tk, causal), for Sees
}

func (f *bigbirdImpl) Caps() attntest.Caps {
	return attntest.Caps{Causal: true, KeyMask: true, KVHeads: true, Exact: true}
}

func (f *bigbirdImpl) Sees(h, i, j, tq, tk int, causal bool) bool {
	nb := (tk + f.block - 1) / f.block
	key := [3]int{h, tk, 0}
	if causal {
		key[2] = 1
	}
	layout, ok := f.layouts[key]
	if !ok {
		if f.layouts == nil {
			f.layouts = map[[3]int][]bool{}
		}
		layout = make([]bool, nb*nb)
		BigBirdLayout(layout, h, tk, BigBirdOptions{Options: Options{Causal: causal}, Block: f.block, Random: f.random, Seed: 7})
		f.layouts[key] = layout
	}
	return (!causal || j <= i) && layout[(i/f.block)*nb+j/f.block]
}

func (f *bigbirdImpl) Forward(out, q, k, v *tensor.Tensor, mask []bool, causal bool) error {
	lse := f.lse
	if b, h, tq, _, ok := dims4(q); ok {
		lse = resize(lse, LSEShape(b, h, tq)...)
		f.lse = lse
	}
	f.call, f.out = call{q, k, v, mask, Options{Causal: causal}}, out
	f.bopt = BigBirdOptions{Options: f.opt, Block: f.block, Random: f.random, Seed: 7}
	return BigBirdForward(out, lse, q, k, v, mask, f.bopt)
}

func (f *bigbirdImpl) Backward(dq, dk, dv, dout *tensor.Tensor) error {
	return BigBirdBackward(dq, dk, dv, dout, f.q, f.k, f.v, f.out, f.lse, f.mask, f.bopt)
}

func TestConformanceBigBird(t *testing.T) {
	for _, impl := range []*bigbirdImpl{{block: 4, random: 2}, {block: 1, random: 3}, {block: 40, random: 1}, {block: 16, random: 0}} {
		t.Run(fmt.Sprintf("block=%d/random=%d", impl.block, impl.random), func(t *testing.T) {
			attntest.Run(t, impl)
		})
	}
}

// With enough random blocks every block is attended: full attention.
func TestBigBirdEveryBlockEqualsFull(t *testing.T) {
	const b, h, tt, d = 2, 2, 150, 32
	for _, causal := range []bool{false, true} {
		t.Run(fmt.Sprintf("causal=%v", causal), func(t *testing.T) {
			q, k, v, dout := randT(1, b, h, tt, d), randT(2, b, h, tt, d), randT(3, b, h, tt, d), randT(4, b, h, tt, d)
			mask := keyMaskFor(attnCase{b: b, tk: tt, pad: true})
			var res [2][]*tensor.Tensor
			for n, impl := range []attntest.Impl{&fullImpl{}, &bigbirdImpl{block: 16, random: 10}} {
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

// Each middle query block attends to exactly 3 window, 2 global and r
// random blocks; global blocks attend to all; the layout depends on the
// seed and the head, and on nothing else.
func TestBigBirdLayout(t *testing.T) {
	const tt, blk, r, nb = 640, 32, 3, 20
	opt := BigBirdOptions{Block: blk, Random: r, Seed: 1}
	layout := func(h int, o BigBirdOptions) []bool {
		l := make([]bool, nb*nb)
		BigBirdLayout(l, h, tt, o)
		return l
	}
	l0 := layout(0, opt)
	for qb := range nb {
		n := 0
		for kb := range nb {
			if l0[qb*nb+kb] {
				n++
			}
		}
		// The window of blocks 1 and nb-2 includes a global block.
		want := 5 + r
		switch qb {
		case 0, nb - 1:
			want = nb
		case 1, nb - 2:
			want = 4 + r
		}
		if n != want {
			t.Errorf("query block %d attends to %d blocks, want %d", qb, n, want)
		}
		for _, kb := range []int{0, nb - 1, max(0, qb-1), qb, min(nb-1, qb+1)} {
			if !l0[qb*nb+kb] {
				t.Errorf("query block %d does not attend to window or global block %d", qb, kb)
			}
		}
	}
	same := func(a, b []bool) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
	if !same(l0, layout(0, opt)) {
		t.Error("the layout is not a function of the seed")
	}
	if same(l0, layout(1, opt)) {
		t.Error("heads 0 and 1 have the same random blocks")
	}
	if same(l0, layout(0, BigBirdOptions{Block: blk, Random: r, Seed: 2})) {
		t.Error("seeds 1 and 2 give the same random blocks")
	}
}
