package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Flash attention (Dao et al. 2022, "FlashAttention", §3.1; Dao 2023,
// "FlashAttention-2", §3.1, Algorithms 1 and 2): exact softmax attention
// computed block by block with an online softmax, so that the forward
// keeps only one log-sum-exp per query instead of the T×T probabilities,
// and the backward recomputes them. Its extra memory is linear in the
// sequence length: the log-sum-exps (B, H, Tq), per-thread blocks of
// 128 keys × 32 queries and, with grouped key/value heads, a
// (B, H, Tk, D) scratch for the per-head dK and dV. The engine is in
// tiled.go.
//
// Masks follow FullForward: with Causal, query i sees keys
// j <= i + (Tk - Tq), and key blocks past a query block's last visible key
// are skipped; a key mask hides keys per batch; a query that sees no key
// gets a zero output and zero gradients. k and v may have fewer heads than
// q (grouped-query attention; see gdims).

// LSEShape is the shape of the log-sum-exp cache that FlashForward fills
// and FlashBackward reads: (B, H, Tq).
func LSEShape(b, h, tq int) []int { return []int{b, h, tq} }

// FlashForward computes out = softmax(scale·q·kᵀ + mask)·v, like
// FullForward, and fills lse (B, H, Tq) with each query's log-sum-exp of
// scores, -Inf for a query that sees no key. q is (B, H, Tq, D); k and v
// are (B, KVH, Tk, D) with KVH dividing H; out is like q; keyMask is nil
// or has B*Tk flags.
func FlashForward(out, lse, q, k, v *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.FlashForward").Add("out", out).Add("lse", lse).Add("q", q).Add("k", k).Add("v", v)
	g := checkGrouped(c, q, k, v, keyMask)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		c.Shape("lse", lse, LSEShape(g.b, g.h, g.tq)...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	j := tiledJobs.Get()
	p := densePatterns.Get()
	*p = densePattern{tq: g.tq, tk: g.tk, causal: opt.Causal}
	*j = tiledJob{gdims: g, pat: p, scale: opt.scale(g.d), keyMask: keyMask,
		q: q.Data, k: k.Data, v: v.Data, out: out.Data, lse: lse.Data}
	j.run()
	*j = tiledJob{}
	tiledJobs.Put(j)
	densePatterns.Put(p)
	return nil
}

// FlashBackward accumulates into dq, dk and dv the gradients of the loss
// given dout, the gradient of FlashForward's output. q, k, v, keyMask and
// opt must be those of the forward, and out and lse its results.
func FlashBackward(dq, dk, dv, dout, q, k, v, out, lse *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.FlashBackward").Add("q", q).Add("k", k).Add("v", v).Add("out", out).Add("lse", lse)
	g := checkGrouped(c, q, k, v, keyMask)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		c.Shape("lse", lse, LSEShape(g.b, g.h, g.tq)...)
		checkGrads(c, g, dq, dk, dv, dout)
	}
	if err := c.Err(); err != nil {
		return err
	}
	p := densePatterns.Get()
	*p = densePattern{tq: g.tq, tk: g.tk, causal: opt.Causal}
	tiledBackward(g, p, opt.scale(g.d), keyMask, dq, dk, dv, dout, q, k, v, out, lse)
	densePatterns.Put(p)
	return nil
}

// tiledBackward runs the tiled engine's backward over pattern p, with the
// per-head scratch that grouped key/value heads need.
func tiledBackward(g gdims, p pattern, scale float32, keyMask []bool, dq, dk, dv, dout, q, k, v, out, lse *tensor.Tensor) {
	j := tiledJobs.Get()
	*j = tiledJob{gdims: g, pat: p, scale: scale, keyMask: keyMask, backward: true,
		q: q.Data, k: k.Data, v: v.Data, out: out.Data, lse: lse.Data,
		dout: dout.Data, dq: dq.Data, dk: dk.Data, dv: dv.Data}
	var s *headScratch
	if g.group() > 1 {
		s = headScratches.Get()
		n := g.b * g.h * g.tk * g.d
		s.dk, s.dv = grow(s.dk, n), grow(s.dv, n)
		j.dkh, j.dvh = s.dk, s.dv
	}
	j.run()
	*j = tiledJob{}
	tiledJobs.Put(j)
	if s != nil {
		headScratches.Put(s)
	}
}

// headScratch holds per-query-head dK and dV, (B, H, Tk, D) each.
type headScratch struct{ dk, dv []float32 }

var headScratches parallel.FreeList[headScratch]

// densePattern is full attention's: every key, or under the causal mask
// keys j <= i + (Tk - Tq).
type densePattern struct {
	tq, tk int
	causal bool
}

var densePatterns parallel.FreeList[densePattern]

func (p *densePattern) spans(dst []span, h, i0, w int) []span {
	if !p.causal {
		return append(dst, span{0, p.tk, true})
	}
	off := p.tk - p.tq
	first := min(p.tk, max(0, i0+off+1)) // keys the block's first query sees
	last := min(p.tk, max(0, i0+w+off))  // keys its last query sees
	if first > 0 {
		dst = append(dst, span{0, first, true})
	}
	if last > first {
		dst = append(dst, span{first, last, false})
	}
	return dst
}

func (p *densePattern) hide(s []float32, h, i0, w, j0, kb, nr int) {
	negInf := float32(math.Inf(-1))
	off := p.tk - p.tq
	for r := range kb {
		// query i0+c sees key j0+r iff c >= j0+r-off-i0.
		for c := range min(w, max(0, j0+r-off-i0)) {
			s[r*nr+c] = negInf
		}
	}
}
