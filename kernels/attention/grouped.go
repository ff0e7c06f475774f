package attention

import "github.com/attnlab/attnlab/kernels/tensor"

// gdims are the dimensions of attention with grouped key/value heads:
// q (B, H, Tq, D), k and v (B, KVH, Tk, D), KVH dividing H. Query head h
// reads key/value head h / (H/KVH) (Ainslie et al. 2023, GQA, §2;
// KVH = 1 is multi-query attention, Shazeer 2019; KVH = H is ordinary
// multi-head attention).
type gdims struct {
	b, h, kvh, tq, tk, d int
}

// group is the number of query heads that share a key/value head.
func (g gdims) group() int { return g.h / g.kvh }

// kvPart is the (batch, key/value head) index that (batch, head) part reads.
func (g gdims) kvPart(part int) int {
	b, h := part/g.h, part%g.h
	return b*g.kvh + h/g.group()
}

func checkGrouped(c *tensor.Checker, q, k, v *tensor.Tensor, keyMask []bool) gdims {
	var g gdims
	if !c.Ok() {
		return g
	}
	c.Require(q.Rank() == 4, "q must be (B, H, Tq, D)")
	c.Require(k.Rank() == 4 && v.Rank() == 4, "k and v must be (B, KVH, Tk, D)")
	if !c.Ok() {
		return g
	}
	g = gdims{q.Shape[0], q.Shape[1], k.Shape[1], q.Shape[2], k.Shape[2], q.Shape[3]}
	c.Shape("k", k, g.b, g.kvh, g.tk, g.d)
	c.Shape("v", v, g.b, g.kvh, g.tk, g.d)
	if c.Ok() && (g.kvh < 1 || g.h%g.kvh != 0) {
		c.Failf("k and v have %d heads, which must divide q's %d heads", g.kvh, g.h)
	}
	if keyMask != nil && len(keyMask) != g.b*g.tk {
		c.Failf("the key mask has %d flags, want B*Tk = %d", len(keyMask), g.b*g.tk)
	}
	return g
}

// checkGrads checks the backward's gradient and output tensors against
// the inputs they belong to.
func checkGrads(c *tensor.Checker, g gdims, dq, dk, dv, dout *tensor.Tensor) {
	c.Add("dq", dq).Add("dk", dk).Add("dv", dv).Add("dout", dout)
	if !c.Ok() {
		return
	}
	c.Shape("dout", dout, g.b, g.h, g.tq, g.d)
	c.Shape("dq", dq, g.b, g.h, g.tq, g.d)
	c.Shape("dk", dk, g.b, g.kvh, g.tk, g.d)
	c.Shape("dv", dv, g.b, g.kvh, g.tk, g.d)
}
