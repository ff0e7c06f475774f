package attention

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// The backward's pieces cut each query block's spans at the key grid:
// every piece lies in one block of kblk keys, the pieces of a block
// come in query-block order, and together they cover each query block's
// spans exactly once, unaligned windows and global keys included.
func TestTiledPiecesOnKeyGrid(t *testing.T) {
	const tt = 1000
	_, nr, _ := blas.Panel()
	p := newWindowPattern(tt, WindowOptions{Window: 100, Global: []int{0, 300, 999}})
	defer windowPatterns.Put(p)
	ws := &tiledBackWS{}
	kblk := keyBlock(64)
	ws.groupPieces(p, 0, tt, tt, nr, kblk)
	nkb := (tt + kblk - 1) / kblk
	if len(ws.first) != nkb+1 || int(ws.first[nkb]) != len(ws.sorted) {
		t.Fatalf("first = %v for %d pieces, want %d key blocks", ws.first, len(ws.sorted), nkb)
	}
	seen := make([]int, tt*tt/nr+tt) // (query block, key) visits
	for kb := range nkb {
		prev := tiledPiece{qb: -1}
		for _, pc := range ws.sorted[ws.first[kb]:ws.first[kb+1]] {
			if int(pc.lo) < kb*kblk || int(pc.hi) > (kb+1)*kblk || pc.lo >= pc.hi {
				t.Fatalf("piece %+v is not inside key block %d", pc, kb)
			}
			if pc.qb < prev.qb || pc.qb == prev.qb && pc.lo < prev.hi {
				t.Fatalf("piece %+v follows %+v in key block %d", pc, prev, kb)
			}
			prev = pc
			for j := pc.lo; j < pc.hi; j++ {
				seen[int(pc.qb)*tt+int(j)]++
			}
		}
	}
	for i0, qb := 0, 0; i0 < tt; i0, qb = i0+nr, qb+1 {
		want := make([]int, tt)
		for _, sp := range p.spans(nil, 0, i0, min(nr, tt-i0)) {
			for j := sp.lo; j < sp.hi; j++ {
				want[j]++
			}
		}
		for j := range tt {
			if got := seen[qb*tt+j]; got != want[j] {
				t.Fatalf("query block %d visits key %d %d times, its spans %d", qb, j, got, want[j])
			}
		}
	}
}

// Flash equals full attention on shapes that exercise the backward's
// edges: head dims that leave a partial column panel, more than one
// panel, cross attention whose key count is not a multiple of the key
// block, and grouped heads.
func TestFlashBackwardEdgesEqualFull(t *testing.T) {
	for i, c := range []struct {
		attnCase
		kvh int
	}{
		{attnCase{1, 2, 200, 333, 40, true, true}, 2},
		{attnCase{2, 4, 97, 97, 72, false, true}, 2},
		{attnCase{1, 3, 161, 300, 24, false, false}, 1},
		{attnCase{1, 2, 260, 130, 33, true, false}, 2},
	} {
		t.Run(fmt.Sprintf("%v/KVH=%d", c.attnCase, c.kvh), func(t *testing.T) {
			q := randT(uint64(10*i), c.b, c.h, c.tq, c.d)
			k, v := randT(uint64(10*i+1), c.b, c.kvh, c.tk, c.d), randT(uint64(10*i+2), c.b, c.kvh, c.tk, c.d)
			dout := randT(uint64(10*i+3), c.b, c.h, c.tq, c.d)
			mask := keyMaskFor(c.attnCase)
			var res [2][]*tensor.Tensor
			for n, impl := range []attntest.Impl{&fullImpl{grouped: true}, &flashImpl{}} {
				out, dq, dk, dv := tensor.New(q.Shape...), tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
				if err := impl.Forward(out, q, k, v, mask, c.causal); err != nil {
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
