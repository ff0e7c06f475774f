package transformer

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Backward accumulates into every parameter gradient the gradient of the
// loss given dout (B, T, V), the gradient of the last Forward's logits.
// Step zeroes the parameter gradients; activation gradients are zeroed
// here, since the kernels accumulate.
func (m *model) Backward(dout *tensor.Tensor) error {
	if m.opt == nil {
		return errorf("Backward called before a successful Init")
	}
	if !m.forwarded {
		return errorf("Backward without a successful Forward")
	}
	v := m.hp.vocab
	if dout == nil {
		return errorf("Backward: dout is nil, want the gradient of the logits (%d, %d, %d)", m.b, m.t, v)
	}
	if dout.Rank() != 3 || dout.Shape[0] != m.b || dout.Shape[1] != m.t || dout.Shape[2] != v || len(dout.Data) != m.b*m.t*v {
		return errorf("Backward: dout has shape %s and %d elements, want the logits' shape (%d, %d, %d)", tensor.FormatShape(dout.Shape), len(dout.Data), m.b, m.t, v)
	}
	for _, g := range m.grads {
		g.Zero()
	}
	last := m.blocks[len(m.blocks)-1] // layers >= 1
	var e firstErr
	// logits = ln_f(last.out)·headᵀ
	e.do(nn.LinearBackward(m.dlnf, m.head.g, nil, dout, m.lnf, m.head.v))
	e.do(nn.LayerNormBackward(last.dout, m.lnfW.g, m.lnfB.g, m.dlnf, last.out, m.lnfW.v, m.lnfMu, m.lnfRs))
	if e.err != nil {
		return errorf("LM head backward: %w", e.err)
	}
	for l := len(m.blocks) - 1; l >= 0; l-- {
		in, din := m.x, m.dx
		if l > 0 {
			in, din = m.blocks[l-1].out, m.blocks[l-1].dout
		}
		if err := m.blockBackward(l, m.blocks[l], in, din); err != nil {
			return err
		}
	}
	// x = wte[ids] + wpe[:T]
	if !m.hp.sinusoid && !m.hp.rope {
		e.do(nn.PositionBackward(nil, m.wpe.g, m.dx))
	}
	e.do(nn.EmbeddingBackward(m.wte.g, m.dx, m.ids))
	if e.err != nil {
		return errorf("embeddings backward: %w", e.err)
	}
	return nil
}

// blockBackward accumulates block l's parameter gradients and din, the
// gradient of its input in, from bl.dout.
func (m *model) blockBackward(l int, bl *block, in, din *tensor.Tensor) error {
	var e firstErr
	// out = res1 + dropout(fcproj(gelu(fc(ln2(res1)))))
	e.do(nn.ResidualBackward(bl.dres1, nil, bl.dout))
	dproj := bl.dout
	if m.dropped {
		e.do(nn.DropoutBackward(bl.dproj2, bl.mask2, bl.dout))
		dproj = bl.dproj2
	}
	e.do(nn.LinearBackward(bl.dfchGelu, bl.fcpW.g, bl.fcpB.g, dproj, bl.fchGelu, bl.fcpW.v))
	e.do(nn.GELUBackward(bl.dfch, bl.fch, bl.dfchGelu, nn.GELUTanh))
	e.do(nn.LinearBackward(bl.dln2, bl.fcW.g, bl.fcB.g, bl.dfch, bl.ln2, bl.fcW.v))
	e.do(nn.LayerNormBackward(bl.dres1, bl.ln2W.g, bl.ln2B.g, bl.dln2, bl.res1, bl.ln2W.v, bl.ln2Mu, bl.ln2Rs))
	// res1 = in + dropout(proj(attention(...)))
	e.do(nn.ResidualBackward(din, nil, bl.dres1))
	dproj = bl.dres1
	if m.dropped {
		e.do(nn.DropoutBackward(bl.dproj1, bl.mask1, bl.dres1))
		dproj = bl.dproj1
	}
	e.do(nn.LinearBackward(bl.datty, bl.projW.g, bl.projB.g, dproj, bl.atty, bl.projW.v))
	e.do(attention.MergeHeadsBackward(bl.dy, bl.datty))
	if e.err != nil {
		return errorf("block %d backward: %w", l, e.err)
	}
	dq, dk, dv, err := m.attn.Backward(l, bl.dy)
	if err != nil {
		return errorf("block %d backward: attention: %w", l, err)
	}
	for _, g := range [...]*tensor.Tensor{dq, dk, dv} {
		if g == nil || !tensor.SameShape(g.Shape, bl.q.Shape) || len(g.Data) != len(bl.q.Data) {
			return errorf("block %d backward: attention returned a gradient of shape %s, want q's shape %s", l, describe(g), tensor.FormatShape(bl.q.Shape))
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
	e.do(attention.SplitHeadsBackward(bl.dqkv, dq, dk, dv))
	e.do(nn.LinearBackward(bl.dln1, bl.qkvW.g, bl.qkvB.g, bl.dqkv, bl.ln1, bl.qkvW.v))
	e.do(nn.LayerNormBackward(din, bl.ln1W.g, bl.ln1B.g, bl.dln1, in, bl.ln1W.v, bl.ln1Mu, bl.ln1Rs))
	if e.err != nil {
		return errorf("block %d backward: %w", l, e.err)
	}
	return nil
}
