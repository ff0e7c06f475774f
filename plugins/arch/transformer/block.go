package transformer

import (
	"fmt"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// block is one pre-LN transformer block:
//
//	res1 = in + dropout(proj(attention(split(qkv(ln1(in))))))
//	mid  = res1, or res1 + cross-attention to the encoder (see crossAttn)
//	out  = mid + dropout(fcproj(gelu(fc(ln2(mid)))))
//
// The self-attention is causal in a decoder and bidirectional in an
// encoder (the attention component applies the mask its layer spec says).
type block struct {
	name  string     // parameter prefix, e.g. "h.0." or "dec.h.1."
	index int        // position in its stack
	layer int        // attention layer index of the self-attention
	drop  uint64     // dropout streams 2·drop (attention projection) and 2·drop+1 (MLP)
	cross *crossAttn // cross-attention sublayer in an encoder-decoder's decoder; else nil

	ln1W, ln1B   *param // (C), (C)
	qkvW, qkvB   *param // (3C, C), (3C); (H+2·KVH)·D rows with grouped key/value heads
	projW, projB *param // (C, C), (C)
	ln2W, ln2B   *param // (C), (C)
	fcW, fcB     *param // (F, C), (F)
	fcpW, fcpB   *param // (C, F), (C)

	ln1, ln1Mu, ln1Rs *tensor.Tensor // (B, T, C), (B, T), (B, T)
	qkv               *tensor.Tensor // (B, T, (H+2·KVH)·D), 3C unless grouped
	q                 *tensor.Tensor // (B, H, T, D), rotated with rope
	k, v              *tensor.Tensor // (B, KVH, T, D), k rotated with rope
	dqRot, dkRot      *tensor.Tensor // (B, H, T, D), (B, KVH, T, D) rope only: dq, dk before the rotation
	atty              *tensor.Tensor // (B, T, C) attention output, heads merged
	res1              *tensor.Tensor // (B, T, C)
	mask1             *tensor.Tensor // (B, T, C) dropout scales of the attention projection
	ln2, ln2Mu, ln2Rs *tensor.Tensor // (B, T, C), (B, T), (B, T)
	fch, fchGelu      *tensor.Tensor // (B, T, F)
	out               *tensor.Tensor // (B, T, C)
	mask2             *tensor.Tensor // (B, T, C) dropout scales of the MLP projection

	dln1, dqkv, dy, datty, dproj1 *tensor.Tensor // (B, T, C), like qkv, (B, H, T, D), (B, T, C), (B, T, C)
	dres1, dln2, dfch, dfchGelu   *tensor.Tensor // (B, T, C), (B, T, C), (B, T, F), (B, T, F)
	dproj2, dout                  *tensor.Tensor // (B, T, C), (B, T, C)
}

// newBlock allocates the parameters of block l of stack s, named
// s.prefix+"h.l.ln_1.weight", ... (as nanoGPT), and its activations over
// the stack's sequence. layer is its self-attention's layer index, drop
// its dropout key.
func (m *model) newBlock(s *stack, l, layer, drop int) *block {
	hp := m.hp
	bs, t, c, h, d, f := hp.maxBatch, s.maxT, hp.dModel, hp.heads, hp.headDim, hp.hidden
	kvh := hp.kvHeads
	qkvw := (h + 2*kvh) * d // 3C unless grouped
	// Decay follows minGPT's configure_optimizers: matrices decay; biases
	// and norm gains do not (see doc.go).
	name := fmt.Sprintf("%sh.%d.", s.prefix, l)
	n := func(s string) string { return name + s }
	bl := &block{
		name: name, index: l, layer: layer, drop: uint64(drop),
		ln1W: m.newParam(n("ln_1.weight"), true, c), ln1B: m.newParam(n("ln_1.bias"), true, c),
		qkvW: m.newParam(n("attn.c_attn.weight"), false, qkvw, c), qkvB: m.newParam(n("attn.c_attn.bias"), true, qkvw),
		projW: m.newParam(n("attn.c_proj.weight"), false, c, c), projB: m.newParam(n("attn.c_proj.bias"), true, c),
		ln2W: m.newParam(n("ln_2.weight"), true, c), ln2B: m.newParam(n("ln_2.bias"), true, c),
		fcW: m.newParam(n("mlp.c_fc.weight"), false, f, c), fcB: m.newParam(n("mlp.c_fc.bias"), true, f),
		fcpW: m.newParam(n("mlp.c_proj.weight"), false, c, f), fcpB: m.newParam(n("mlp.c_proj.bias"), true, c),
	}
	bl.ln1, bl.ln1Mu, bl.ln1Rs = m.act(s, 1, bs, t, c), m.act(s, 1, bs, t), m.act(s, 1, bs, t)
	bl.qkv = m.act(s, 1, bs, t, qkvw) // and dqkv: untouched when the projection runs head by head (qkvheads.go)
	bl.q, bl.k, bl.v = m.act(s, 2, bs, h, t, d), m.act(s, 2, bs, kvh, t, d), m.act(s, 2, bs, kvh, t, d)
	bl.atty, bl.res1, bl.mask1 = m.act(s, 1, bs, t, c), m.act(s, 1, bs, t, c), m.act(s, 1, bs, t, c)
	bl.ln2, bl.ln2Mu, bl.ln2Rs = m.act(s, 1, bs, t, c), m.act(s, 1, bs, t), m.act(s, 1, bs, t)
	bl.fch, bl.fchGelu = m.act(s, 1, bs, t, f), m.act(s, 1, bs, t, f)
	bl.out, bl.mask2 = m.act(s, 1, bs, t, c), m.act(s, 1, bs, t, c)
	// Most of the block's activation gradients are overwritten by their
	// first writer in blockBackward (see model.gradTo). Those whose first
	// writer accumulates are zeroed: the dropout gradients, dqkv when heads
	// are grouped (splitQKVBackward) and, registered by newStack, dres1
	// under cross-attention and the last block's dout (the final layer
	// norm's backward).
	bl.dln1, bl.dqkv, bl.dy = m.gradTo(s, 1, bs, t, c), m.gradTo(s, 1, bs, t, qkvw), m.gradTo(s, 2, bs, h, t, d)
	bl.datty, bl.dproj1, bl.dres1 = m.gradTo(s, 1, bs, t, c), m.gradTo(s, 1, bs, t, c), m.gradTo(s, 1, bs, t, c)
	bl.dln2, bl.dfch, bl.dfchGelu = m.gradTo(s, 1, bs, t, c), m.gradTo(s, 1, bs, t, f), m.gradTo(s, 1, bs, t, f)
	bl.dproj2, bl.dout = m.gradTo(s, 1, bs, t, c), m.gradTo(s, 1, bs, t, c)
	if hp.dropout > 0 {
		s.grads = append(s.grads, bl.dproj1, bl.dproj2)
	}
	if kvh != h {
		s.grads = append(s.grads, bl.dqkv)
	}
	if hp.rope {
		bl.dqRot, bl.dkRot = m.act(s, 2, bs, h, t, d), m.act(s, 2, bs, kvh, t, d)
	}
	return bl
}

// blockForward runs block bl of stack s on in (B, T, C), leaving bl.out.
func (m *model) blockForward(s *stack, bl *block, in *tensor.Tensor) error {
	hp := &m.hp
	var e firstErr
	e.do(nn.LayerNormForward(bl.ln1, bl.ln1Mu, bl.ln1Rs, in, bl.ln1W.v, bl.ln1B.v, hp.lnEps))
	switch {
	case e.err != nil: // reported below
	case m.qkvHeadsOK():
		m.qkvHeadsForward(bl) // straight into (B, H, T, D), 2 × (B, KVH, T, D)
	default:
		e.do(nn.LinearForward(bl.qkv, bl.ln1, bl.qkvW.v, bl.qkvB.v))
		e.do(m.splitBlockQKV(bl.q, bl.k, bl.v, bl.qkv)) // (B, T, (H+2·KVH)·D) → (B, H, T, D), 2 × (B, KVH, T, D)
	}
	if m.hp.rope {
		e.do(attention.RotaryForward(bl.q, m.ropeCos, m.ropeSin))
		e.do(attention.RotaryForward(bl.k, m.ropeCos, m.ropeSin))
	}
	if e.err != nil {
		return errorf("%s: %w", bl.label(s), e.err)
	}
	y, err := m.attn.Forward(bl.layer, bl.q, bl.k, bl.v, s.mask)
	if err != nil {
		return errorf("%s: attention: %w", bl.label(s), err)
	}
	if y == nil || !tensor.SameShape(y.Shape, bl.q.Shape) || len(y.Data) != len(bl.q.Data) {
		return errorf("%s: attention returned %s, want q's shape %s", bl.label(s), describe(y), tensor.FormatShape(bl.q.Shape))
	}
	e.do(attention.MergeHeads(bl.atty, y)) // (B, H, T, D) → (B, T, C)
	e.do(nn.LinearForward(bl.res1, bl.atty, bl.projW.v, bl.projB.v))
	if m.dropped {
		e.do(nn.DropoutForward(bl.res1, bl.mask1, bl.res1, hp.dropout, m.drop.Split(uint64(m.trainForwards)).Split(2*bl.drop)))
	}
	e.do(nn.ResidualForward(bl.res1, bl.res1, in))
	if e.err != nil {
		return errorf("%s: %w", bl.label(s), e.err)
	}
	mid := bl.res1
	if bl.cross != nil {
		if err := m.crossForward(bl.cross, bl.res1); err != nil {
			return errorf("%s: %w", bl.label(s), err)
		}
		mid = bl.cross.res
	}
	e.do(nn.LayerNormForward(bl.ln2, bl.ln2Mu, bl.ln2Rs, mid, bl.ln2W.v, bl.ln2B.v, hp.lnEps))
	e.do(nn.LinearForward(bl.fch, bl.ln2, bl.fcW.v, bl.fcB.v))
	e.do(nn.GELUForward(bl.fchGelu, bl.fch, nn.GELUTanh))
	e.do(nn.LinearForward(bl.out, bl.fchGelu, bl.fcpW.v, bl.fcpB.v))
	if m.dropped {
		e.do(nn.DropoutForward(bl.out, bl.mask2, bl.out, hp.dropout, m.drop.Split(uint64(m.trainForwards)).Split(2*bl.drop+1)))
	}
	e.do(nn.ResidualForward(bl.out, bl.out, mid))
	if e.err != nil {
		return errorf("%s: %w", bl.label(s), e.err)
	}
	return nil
}

// label names the block in errors: "block 0", "decoder block 1".
func (bl *block) label(s *stack) string {
	return fmt.Sprintf("%sblock %d", s.label, bl.index)
}

// blockBackward accumulates block bl's parameter gradients and din, the
// gradient of its input in, from bl.dout.
func (m *model) blockBackward(s *stack, bl *block, in, din *tensor.Tensor) error {
	mid, dmid := bl.res1, bl.dres1
	if bl.cross != nil {
		mid, dmid = bl.cross.res, bl.cross.dres
	}
	var e firstErr
	// out = mid + dropout(fcproj(gelu(fc(ln2(mid)))))
	e.do(setGrad(dmid, bl.dout)) // dmid's first writer
	dproj := bl.dout
	if m.dropped {
		e.do(nn.DropoutBackward(bl.dproj2, bl.mask2, bl.dout))
		dproj = bl.dproj2
	}
	e.do(nn.LinearBackwardTo(bl.dfchGelu, bl.fcpW.g, bl.fcpB.g, dproj, bl.fchGelu, bl.fcpW.v))
	e.do(nn.GELUBackwardTo(bl.dfch, bl.fch, bl.dfchGelu, nn.GELUTanh))
	e.do(nn.LinearBackwardTo(bl.dln2, bl.fcW.g, bl.fcB.g, bl.dfch, bl.ln2, bl.fcW.v))
	e.do(nn.LayerNormBackward(dmid, bl.ln2W.g, bl.ln2B.g, bl.dln2, mid, bl.ln2W.v, bl.ln2Mu, bl.ln2Rs))
	if e.err != nil {
		return errorf("%s backward: %w", bl.label(s), e.err)
	}
	if bl.cross != nil {
		// mid = res1 + cross-attention(...): dres1 and the encoder's dlnf
		if err := m.crossBackward(bl.cross, bl.res1, bl.dres1); err != nil {
			return errorf("%s backward: %w", bl.label(s), err)
		}
	}
	// res1 = in + dropout(proj(attention(...)))
	e.do(setGrad(din, bl.dres1)) // din's first writer: the blocks run last to first
	dproj = bl.dres1
	if m.dropped {
		e.do(nn.DropoutBackward(bl.dproj1, bl.mask1, bl.dres1))
		dproj = bl.dproj1
	}
	e.do(nn.LinearBackwardTo(bl.datty, bl.projW.g, bl.projB.g, dproj, bl.atty, bl.projW.v))
	e.do(attention.MergeHeadsBackwardTo(bl.dy, bl.datty))
	if e.err != nil {
		return errorf("%s backward: %w", bl.label(s), e.err)
	}
	dq, dk, dv, err := m.attn.Backward(bl.layer, bl.dy)
	if err != nil {
		return errorf("%s backward: attention: %w", bl.label(s), err)
	}
	for _, g := range [...]struct {
		got, like *tensor.Tensor
	}{{dq, bl.q}, {dk, bl.k}, {dv, bl.v}} {
		if g.got == nil || !tensor.SameShape(g.got.Shape, g.like.Shape) || len(g.got.Data) != len(g.like.Data) {
			return errorf("%s backward: attention returned a gradient of shape %s, want %s", bl.label(s), describe(g.got), tensor.FormatShape(g.like.Shape))
		}
	}
	if m.hp.rope {
		// The attention's gradients may be read-only views of another
		// process's memory: un-rotate copies.
		copy(bl.dqRot.Data, dq.Data)
		copy(bl.dkRot.Data, dk.Data)
		e.do(attention.RotaryBackward(bl.dqRot, m.ropeCos, m.ropeSin))
		e.do(attention.RotaryBackward(bl.dkRot, m.ropeCos, m.ropeSin))
		dq, dk = bl.dqRot, bl.dkRot
	}
	switch {
	case e.err != nil: // reported below
	case m.qkvHeadsOK():
		m.qkvHeadsBackward(bl, dq, dk, dv)
	default:
		e.do(m.splitBlockQKVBackward(bl.dqkv, dq, dk, dv))
		e.do(nn.LinearBackwardTo(bl.dln1, bl.qkvW.g, bl.qkvB.g, bl.dqkv, bl.ln1, bl.qkvW.v))
	}
	e.do(nn.LayerNormBackward(din, bl.ln1W.g, bl.ln1B.g, bl.dln1, in, bl.ln1W.v, bl.ln1Mu, bl.ln1Rs))
	if e.err != nil {
		return errorf("%s backward: %w", bl.label(s), e.err)
	}
	return nil
}
