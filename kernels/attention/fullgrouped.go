package attention

import (
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// Full attention with grouped key/value heads (GQA, Ainslie et al. 2023,
// §2; MQA when KVH = 1): k and v are (B, KVH, Tk, D) and query head h
// reads key/value head h / (H/KVH). FullForward and FullBackward do the
// work on k and v repeated to H heads in a reused scratch; the copies cost
// O(B·H·Tk·D), nothing beside full attention's O(Tq·Tk) per head. With
// KVH = H these are FullForward and FullBackward.

// FullGroupedForward is FullForward with k and v of shape (B, KVH, Tk, D),
// KVH dividing H; att is CacheShape(B, H, Tq, Tk).
func FullGroupedForward(out, att, q, k, v *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.FullGroupedForward").Add("out", out).Add("att", att).Add("q", q).Add("k", k).Add("v", v)
	g := checkGrouped(c, q, k, v, keyMask)
	if err := c.Err(); err != nil {
		return err
	}
	if g.kvh == g.h {
		return FullForward(out, att, q, k, v, keyMask, opt)
	}
	s := repeatScratches.Get()
	defer repeatScratches.Put(s)
	ke, ve := s.repeat(g, k, v)
	return FullForward(out, att, q, ke, ve, keyMask, opt)
}

// FullGroupedBackward is FullBackward for FullGroupedForward: it
// accumulates into dq (like q) and dk, dv (like k, v), the key/value
// gradients summed over the query heads that share them, in head order.
func FullGroupedBackward(dq, dk, dv, dout, q, k, v, att *tensor.Tensor, keyMask []bool, opt Options) error {
	c := tensor.Check("attention.FullGroupedBackward").Add("q", q).Add("k", k).Add("v", v).Add("att", att)
	g := checkGrouped(c, q, k, v, keyMask)
	if c.Ok() {
		checkGrads(c, g, dq, dk, dv, dout)
	}
	if err := c.Err(); err != nil {
		return err
	}
	if g.kvh == g.h {
		return FullBackward(dq, dk, dv, dout, q, k, v, att, keyMask, opt)
	}
	s := repeatScratches.Get()
	defer repeatScratches.Put(s)
	ke, ve := s.repeat(g, k, v)
	dke, dve := s.grads(g)
	if err := FullBackward(dq, dke, dve, dout, q, ke, ve, att, keyMask, opt); err != nil {
		return err
	}
	n, grp := g.tk*g.d, g.group()
	for bk := range g.b * g.kvh {
		b, kvh := bk/g.kvh, bk%g.kvh
		for hh := range grp {
			src := (b*g.h + kvh*grp + hh) * n
			vmath.Axpy(1, dke.Data[src:src+n], dk.Data[bk*n:(bk+1)*n])
			vmath.Axpy(1, dve.Data[src:src+n], dv.Data[bk*n:(bk+1)*n])
		}
	}
	return nil
}

// repeatScratch holds k, v and their gradients repeated to H heads,
// (B, H, Tk, D) each.
type repeatScratch struct {
	k, v, dk, dv tensor.Tensor
	shape        [4]int
}

var repeatScratches parallel.FreeList[repeatScratch]

func (s *repeatScratch) sized(t *tensor.Tensor, g gdims) *tensor.Tensor {
	s.shape = [4]int{g.b, g.h, g.tk, g.d}
	t.Shape = s.shape[:]
	t.Data = grow(t.Data, g.b*g.h*g.tk*g.d)
	return t
}

// repeat copies k and v (B, KVH, Tk, D) to (B, H, Tk, D).
func (s *repeatScratch) repeat(g gdims, k, v *tensor.Tensor) (ke, ve *tensor.Tensor) {
	ke, ve = s.sized(&s.k, g), s.sized(&s.v, g)
	n := g.tk * g.d
	for part := range g.b * g.h {
		kv := g.kvPart(part)
		copy(ke.Data[part*n:(part+1)*n], k.Data[kv*n:(kv+1)*n])
		copy(ve.Data[part*n:(part+1)*n], v.Data[kv*n:(kv+1)*n])
	}
	return ke, ve
}

// grads returns zeroed (B, H, Tk, D) gradients for the repeated k and v.
func (s *repeatScratch) grads(g gdims) (dk, dv *tensor.Tensor) {
	dk, dv = s.sized(&s.dk, g), s.sized(&s.dv, g)
	clear(dk.Data)
	clear(dv.Data)
	return dk, dv
}
