package attention

import (
	"math"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Block-sparse attention in BigBird's ITC layout (Zaheer et al. 2020,
// "Big Bird", §2 and Appendix D): the sequence is cut into blocks of b
// tokens and each query block attends to
//
//   - 3 window blocks: itself and its two neighbours;
//   - 2 global blocks, the first and the last, which also attend to every
//     block (the internal-transformer-construction globals);
//   - r random blocks, drawn per head and query block, without
//     replacement, from the blocks not already attended, by a seeded
//     stream (rng), so a trial's layout is fixed by its seed.
//
// Under Causal the causal rule applies on top (a query sees no later key)
// and random blocks are drawn among earlier ones. A last block shorter than
// b is allowed. The kernel is the tiled flash engine (tiled.go) visiting
// only the attended key blocks: O(T·b·(5 + r)) work, and memory linear in
// T beside the layout, H·(T/b)² flags.

// BigBirdOptions configures block-sparse attention.
type BigBirdOptions struct {
	Options
	Block  int    // b, tokens per block (at least 1)
	Random int    // r, random blocks per query block
	Seed   uint64 // the random blocks' stream
}

func checkBigBird(c *tensor.Checker, g gdims, opt BigBirdOptions) {
	if !c.Ok() {
		return
	}
	if g.tq != g.tk {
		c.Failf("block-sparse attention is self-attention: Tq = %d must equal Tk = %d", g.tq, g.tk)
	}
	if opt.Block < 1 || opt.Random < 0 {
		c.Failf("block size %d must be positive and random blocks %d not negative", opt.Block, opt.Random)
	}
}

// BigBirdForward computes block-sparse attention into out and fills lse
// (LSEShape(B, H, T)) for the backward. Shapes are FlashForward's, with
// Tq = Tk.
func BigBirdForward(out, lse, q, k, v *tensor.Tensor, keyMask []bool, opt BigBirdOptions) error {
	c := tensor.Check("attention.BigBirdForward").Add("out", out).Add("lse", lse).Add("q", q).Add("k", k).Add("v", v)
	g := checkGrouped(c, q, k, v, keyMask)
	checkBigBird(c, g, opt)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		c.Shape("lse", lse, LSEShape(g.b, g.h, g.tq)...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	p := newBigBirdPattern(g.h, g.tk, opt)
	j := tiledJobs.Get()
	*j = tiledJob{gdims: g, pat: p, scale: opt.scale(g.d), keyMask: keyMask,
		q: q.Data, k: k.Data, v: v.Data, out: out.Data, lse: lse.Data}
	j.run()
	*j = tiledJob{}
	tiledJobs.Put(j)
	bigbirdPatterns.Put(p)
	return nil
}

// BigBirdBackward accumulates into dq, dk and dv the gradients given dout;
// the other arguments are the forward's and its results.
func BigBirdBackward(dq, dk, dv, dout, q, k, v, out, lse *tensor.Tensor, keyMask []bool, opt BigBirdOptions) error {
	c := tensor.Check("attention.BigBirdBackward").Add("q", q).Add("k", k).Add("v", v).Add("out", out).Add("lse", lse)
	g := checkGrouped(c, q, k, v, keyMask)
	checkBigBird(c, g, opt)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		c.Shape("lse", lse, LSEShape(g.b, g.h, g.tq)...)
		checkGrads(c, g, dq, dk, dv, dout)
	}
	if err := c.Err(); err != nil {
		return err
	}
	p := newBigBirdPattern(g.h, g.tk, opt)
	tiledBackward(g, p, opt.scale(g.d), keyMask, dq, dk, dv, dout, q, k, v, out, lse)
	bigbirdPatterns.Put(p)
	return nil
}

// BigBirdLayout fills attended, (nb, nb) with nb = ceil(T/Block), with
// whether query block qb of head h attends to key block kb, at
// attended[qb*nb+kb]: the layout BigBirdForward uses (the causal rule
// within blocks aside). attended must hold nb*nb flags.
func BigBirdLayout(attended []bool, h, t int, opt BigBirdOptions) {
	p := newBigBirdPattern(h+1, t, opt)
	n := p.nb * p.nb
	copy(attended, p.adj[h*n:(h+1)*n])
	bigbirdPatterns.Put(p)
}

// bigbirdPattern is the block layout of every head.
type bigbirdPattern struct {
	t, blk, nb int
	causal     bool
	adj        []bool // (H, nb, nb): query block attends to key block
	cand       []int  // (nb) scratch for the random draws
}

var bigbirdPatterns parallel.FreeList[bigbirdPattern]

func newBigBirdPattern(heads, t int, opt BigBirdOptions) *bigbirdPattern {
	p := bigbirdPatterns.Get()
	p.t, p.blk, p.causal = t, opt.Block, opt.Causal
	p.nb = (t + p.blk - 1) / p.blk
	nb := p.nb
	if cap(p.adj) < heads*nb*nb {
		p.adj = make([]bool, heads*nb*nb)
	}
	p.adj = p.adj[:heads*nb*nb]
	clear(p.adj)
	if cap(p.cand) < nb {
		p.cand = make([]int, nb)
	}
	root := rng.New(opt.Seed)
	for h := range heads {
		adj := p.adj[h*nb*nb : (h+1)*nb*nb]
		r := root.Split(uint64(h))
		for qb := range nb {
			row := adj[qb*nb : (qb+1)*nb]
			if qb == 0 || qb == nb-1 {
				for kb := range row {
					row[kb] = true // a global query block sees everything
				}
				continue
			}
			row[0], row[nb-1] = true, true
			for kb := max(0, qb-1); kb <= min(nb-1, qb+1); kb++ {
				row[kb] = true
			}
			cand := p.cand[:0]
			for kb, seen := range row {
				if !seen && (!p.causal || kb < qb) {
					cand = append(cand, kb)
				}
			}
			for n := range min(opt.Random, len(cand)) {
				x := n + r.Intn(len(cand)-n) // partial Fisher-Yates
				cand[n], cand[x] = cand[x], cand[n]
				row[cand[n]] = true
			}
		}
	}
	return p
}

func (p *bigbirdPattern) sees(h, i, j int) bool {
	if p.causal && j > i {
		return false
	}
	return p.adj[(h*p.nb+i/p.blk)*p.nb+j/p.blk]
}

func (p *bigbirdPattern) spans(dst []span, h, i0, w int) []span {
	qa, qz := i0/p.blk, (i0+w-1)/p.blk
	hiMax := p.t
	if p.causal {
		hiMax = i0 + w
	}
	dense := qa == qz && !p.causal
	for kb := range p.nb {
		lo := kb * p.blk
		if lo >= hiMax {
			break
		}
		seen := false
		for qb := qa; qb <= qz && !seen; qb++ {
			seen = p.adj[(h*p.nb+qb)*p.nb+kb]
		}
		if !seen {
			continue
		}
		hi := min(hiMax, lo+p.blk)
		if n := len(dst); n > 0 && dst[n-1].hi == lo {
			dst[n-1].hi = hi
			continue
		}
		dst = append(dst, span{lo, hi, dense})
	}
	return dst
}

func (p *bigbirdPattern) hide(s []float32, h, i0, w, j0, kb, nr int) {
	negInf := float32(math.Inf(-1))
	for r := range kb {
		row := s[r*nr : r*nr+w]
		for c := range row {
			if !p.sees(h, i0+c, j0+r) {
				row[c] = negInf
			}
		}
	}
}
