package transformer

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// crossAttn is the cross-attention sublayer of a decoder block in an
// encoder-decoder (Vaswani et al. 2017, §3.2.3), pre-LN as in T5: queries
// come from the decoder's residual stream, keys and values from the
// encoder's final states enc (after its ln_f), and the encoder's key mask
// hides its padding:
//
//	res = in + dropout(o_proj(attention(q_proj(ln(in)), k_proj(enc), v_proj(enc))))
//
// The attention goes through the attention component like every other
// layer (role "cross", Tq = Td queries over Tk = Te keys). It has no
// positions: with rope only self-attention is rotated.
type crossAttn struct {
	layer int    // attention layer index
	drop  uint64 // dropout stream of the output projection
	enc   *stack // the encoder whose final states are read

	lnW, lnB *param // (C), (C)
	qW, qB   *param // (C, C), (C)
	kW       *param // (KVH·D, C); no bias: it would add the same amount to every score of a query, which the softmax ignores
	vW, vB   *param // (KVH·D, C), (KVH·D); KVH·D = C unless grouped
	oW, oB   *param // (C, C), (C)

	ln, lnMu, lnRs *tensor.Tensor // (B, Td, C), (B, Td), (B, Td)
	qlin           *tensor.Tensor // (B, Td, C) q_proj(ln), heads not yet split
	q              *tensor.Tensor // (B, H, Td, D)
	klin, vlin     *tensor.Tensor // (B, Te, KVH·D)
	k, v           *tensor.Tensor // (B, KVH, Te, D)
	atty           *tensor.Tensor // (B, Td, C) attention output, heads merged
	res            *tensor.Tensor // (B, Td, C) the sublayer's output
	mask           *tensor.Tensor // (B, Td, C) dropout scales of the output projection

	dln, datty, dproj, dres *tensor.Tensor // (B, Td, C) each
	dy                      *tensor.Tensor // (B, H, Td, D)
	// Fully overwritten by Backward (heads merged from the attention's
	// gradients), so not zeroed with the other gradients.
	dqlin        *tensor.Tensor // (B, Td, C)
	dklin, dvlin *tensor.Tensor // (B, Te, KVH·D)
}

// newCross allocates the cross-attention of the decoder block named name
// (dec.h.l.), with queries over stack dec and keys over stack enc.
func (m *model) newCross(dec, enc *stack, name string, layer int, drop uint64) *crossAttn {
	hp := m.hp
	bs, tq, tk, c, h, d := hp.maxBatch, dec.maxT, enc.maxT, hp.dModel, hp.heads, hp.headDim
	kvh := hp.kvHeads
	kvc := kvh * d // C unless grouped
	n := func(s string) string { return name + s }
	cr := &crossAttn{
		layer: layer, drop: drop, enc: enc,
		lnW: m.newParam(n("ln_cross.weight"), true, c), lnB: m.newParam(n("ln_cross.bias"), true, c),
		qW: m.newParam(n("crossattn.q_proj.weight"), false, c, c), qB: m.newParam(n("crossattn.q_proj.bias"), true, c),
		kW: m.newParam(n("crossattn.k_proj.weight"), false, kvc, c),
		vW: m.newParam(n("crossattn.v_proj.weight"), false, kvc, c), vB: m.newParam(n("crossattn.v_proj.bias"), true, kvc),
		oW: m.newParam(n("crossattn.c_proj.weight"), false, c, c), oB: m.newParam(n("crossattn.c_proj.bias"), true, c),
	}
	cr.ln, cr.lnMu, cr.lnRs = m.act(dec, 1, bs, tq, c), m.act(dec, 1, bs, tq), m.act(dec, 1, bs, tq)
	cr.qlin, cr.q = m.act(dec, 1, bs, tq, c), m.act(dec, 2, bs, h, tq, d)
	cr.klin, cr.vlin = m.act(enc, 1, bs, tk, kvc), m.act(enc, 1, bs, tk, kvc)
	cr.k, cr.v = m.act(enc, 2, bs, kvh, tk, d), m.act(enc, 2, bs, kvh, tk, d)
	cr.atty, cr.res, cr.mask = m.act(dec, 1, bs, tq, c), m.act(dec, 1, bs, tq, c), m.act(dec, 1, bs, tq, c)
	cr.dln, cr.datty, cr.dproj, cr.dres = m.grad(dec, 1, bs, tq, c), m.grad(dec, 1, bs, tq, c), m.grad(dec, 1, bs, tq, c), m.grad(dec, 1, bs, tq, c)
	cr.dy = m.grad(dec, 2, bs, h, tq, d)
	cr.dqlin = m.act(dec, 1, bs, tq, c)
	cr.dklin, cr.dvlin = m.act(enc, 1, bs, tk, kvc), m.act(enc, 1, bs, tk, kvc)
	return cr
}

// splitHeads copies x (B, T, C) into heads (B, H, T, D): the transpose of
// MergeHeads, through MergeHeadsBackward (which accumulates) on a zeroed
// destination.
func splitHeads(heads, x *tensor.Tensor) error {
	heads.Zero()
	return attention.MergeHeadsBackward(heads, x)
}

// crossKV projects the encoder's final states into the keys and values
// (B, KVH, Te, D). They depend on the encoder only, so an evaluation that
// reuses the encoder (see model.encReady) reuses them too.
func (m *model) crossKV(cr *crossAttn) error {
	var e firstErr
	e.do(nn.LinearForward(cr.klin, cr.enc.lnf, cr.kW.v, nil))
	e.do(nn.LinearForward(cr.vlin, cr.enc.lnf, cr.vW.v, cr.vB.v))
	e.do(splitHeads(cr.k, cr.klin))
	e.do(splitHeads(cr.v, cr.vlin))
	return e.err
}

// crossForward runs the sublayer on in (B, Td, C), leaving cr.res; the
// keys and values are crossKV's.
func (m *model) crossForward(cr *crossAttn, in *tensor.Tensor) error {
	var e firstErr
	e.do(nn.LayerNormForward(cr.ln, cr.lnMu, cr.lnRs, in, cr.lnW.v, cr.lnB.v, m.hp.lnEps))
	e.do(nn.LinearForward(cr.qlin, cr.ln, cr.qW.v, cr.qB.v))
	e.do(splitHeads(cr.q, cr.qlin))
	if e.err != nil {
		return errorf("cross-attention: %w", e.err)
	}
	y, err := m.attn.Forward(cr.layer, cr.q, cr.k, cr.v, cr.enc.mask)
	if err != nil {
		return errorf("cross-attention: %w", err)
	}
	if y == nil || !tensor.SameShape(y.Shape, cr.q.Shape) || len(y.Data) != len(cr.q.Data) {
		return errorf("cross-attention returned %s, want q's shape %s", describe(y), tensor.FormatShape(cr.q.Shape))
	}
	e.do(attention.MergeHeads(cr.atty, y)) // (B, H, Td, D) → (B, Td, C)
	e.do(nn.LinearForward(cr.res, cr.atty, cr.oW.v, cr.oB.v))
	if m.dropped {
		e.do(nn.DropoutForward(cr.res, cr.mask, cr.res, m.hp.dropout, m.drop.Split(uint64(m.trainForwards)).Split(cr.drop)))
	}
	e.do(nn.ResidualForward(cr.res, cr.res, in))
	if e.err != nil {
		return errorf("cross-attention: %w", e.err)
	}
	return nil
}

// crossBackward accumulates the sublayer's parameter gradients, din (the
// gradient of its input in) and the encoder's dlnf from cr.dres.
func (m *model) crossBackward(cr *crossAttn, in, din *tensor.Tensor) error {
	var e firstErr
	e.do(nn.ResidualBackward(din, nil, cr.dres))
	dproj := cr.dres
	if m.dropped {
		e.do(nn.DropoutBackward(cr.dproj, cr.mask, cr.dres))
		dproj = cr.dproj
	}
	e.do(nn.LinearBackward(cr.datty, cr.oW.g, cr.oB.g, dproj, cr.atty, cr.oW.v))
	e.do(attention.MergeHeadsBackward(cr.dy, cr.datty))
	if e.err != nil {
		return errorf("cross-attention backward: %w", e.err)
	}
	dq, dk, dv, err := m.attn.Backward(cr.layer, cr.dy)
	if err != nil {
		return errorf("cross-attention backward: %w", err)
	}
	for _, g := range [...]struct {
		got, like *tensor.Tensor
	}{{dq, cr.q}, {dk, cr.k}, {dv, cr.v}} {
		if g.got == nil || !tensor.SameShape(g.got.Shape, g.like.Shape) || len(g.got.Data) != len(g.like.Data) {
			return errorf("cross-attention backward: the attention returned a gradient of shape %s, want %s", describe(g.got), tensor.FormatShape(g.like.Shape))
		}
	}
	// The gradients may be read-only views of another process's memory:
	// MergeHeads only reads them.
	e.do(attention.MergeHeads(cr.dqlin, dq))
	e.do(attention.MergeHeads(cr.dklin, dk))
	e.do(attention.MergeHeads(cr.dvlin, dv))
	e.do(nn.LinearBackward(cr.dln, cr.qW.g, cr.qB.g, cr.dqlin, cr.ln, cr.qW.v))
	e.do(nn.LayerNormBackward(din, cr.lnW.g, cr.lnB.g, cr.dln, in, cr.lnW.v, cr.lnMu, cr.lnRs))
	// Into the encoder: k = k_proj(enc), v = v_proj(enc).
	e.do(nn.LinearBackward(cr.enc.dlnf, cr.kW.g, nil, cr.dklin, cr.enc.lnf, cr.kW.v))
	e.do(nn.LinearBackward(cr.enc.dlnf, cr.vW.g, cr.vB.g, cr.dvlin, cr.enc.lnf, cr.vW.v))
	if e.err != nil {
		return errorf("cross-attention backward: %w", e.err)
	}
	return nil
}
