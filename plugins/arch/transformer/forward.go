package transformer

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// firstErr keeps the first error of a sequence of kernel calls. Inside the
// model every shape is right by construction, so a kernel error is a bug;
// collecting it keeps the layer code as readable as llm.c's.
type firstErr struct{ err error }

func (e *firstErr) do(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Forward returns the logits (B, T, V) for batch.Inputs (B, T), with
// B <= the objective's batch and T <= its sequence length. train applies
// dropout. The logits belong to the model until the next Forward.
func (m *model) Forward(batch *sdk.Batch, train bool) (*tensor.Tensor, error) {
	if m.opt == nil {
		return nil, errorf("Forward called before a successful Init")
	}
	m.forwarded = false
	b, t, err := m.loadBatch(batch)
	if err != nil {
		return nil, err
	}
	for _, v := range m.views {
		v.resize(b, t)
	}
	m.b, m.t = b, t
	m.dropped = train && m.hp.dropout > 0
	if m.dropped {
		m.trainForwards++
	}

	var e firstErr
	e.do(nn.EmbeddingForward(m.x, m.ids, m.wte.v))
	if !m.hp.rope {
		e.do(nn.PositionForward(m.x, m.x, m.wpe.v))
	}
	if e.err != nil {
		return nil, errorf("embeddings: %w", e.err)
	}
	in := m.x
	for l, bl := range m.blocks {
		if err := m.blockForward(l, bl, in); err != nil {
			return nil, err
		}
		in = bl.out
	}
	e.do(nn.LayerNormForward(m.lnf, m.lnfMu, m.lnfRs, in, m.lnfW.v, m.lnfB.v, m.hp.lnEps))
	e.do(nn.LinearForward(m.logits, m.lnf, m.head.v, nil))
	if e.err != nil {
		return nil, errorf("LM head: %w", e.err)
	}
	m.forwarded = true
	return m.logits, nil
}

// blockForward runs block l on in (B, T, C), leaving bl.out.
func (m *model) blockForward(l int, bl *block, in *tensor.Tensor) error {
	hp := &m.hp
	var e firstErr
	e.do(nn.LayerNormForward(bl.ln1, bl.ln1Mu, bl.ln1Rs, in, bl.ln1W.v, bl.ln1B.v, hp.lnEps))
	e.do(nn.LinearForward(bl.qkv, bl.ln1, bl.qkvW.v, bl.qkvB.v))
	e.do(attention.SplitHeads(bl.q, bl.k, bl.v, bl.qkv)) // (B, T, 3C) → 3 × (B, H, T, D)
	if m.hp.rope {
		e.do(attention.RotaryForward(bl.q, m.ropeCos, m.ropeSin))
		e.do(attention.RotaryForward(bl.k, m.ropeCos, m.ropeSin))
	}
	if e.err != nil {
		return errorf("block %d: %w", l, e.err)
	}
	y, err := m.attn.Forward(l, bl.q, bl.k, bl.v, m.mask)
	if err != nil {
		return errorf("block %d: attention: %w", l, err)
	}
	if y == nil || !tensor.SameShape(y.Shape, bl.q.Shape) || len(y.Data) != len(bl.q.Data) {
		return errorf("block %d: attention returned %s, want q's shape %s", l, describe(y), tensor.FormatShape(bl.q.Shape))
	}
	e.do(attention.MergeHeads(bl.atty, y)) // (B, H, T, D) → (B, T, C)
	e.do(nn.LinearForward(bl.res1, bl.atty, bl.projW.v, bl.projB.v))
	if m.dropped {
		e.do(nn.DropoutForward(bl.res1, bl.mask1, bl.res1, hp.dropout, m.drop.Split(uint64(m.trainForwards)).Split(uint64(2*l))))
	}
	e.do(nn.ResidualForward(bl.res1, bl.res1, in))
	e.do(nn.LayerNormForward(bl.ln2, bl.ln2Mu, bl.ln2Rs, bl.res1, bl.ln2W.v, bl.ln2B.v, hp.lnEps))
	e.do(nn.LinearForward(bl.fch, bl.ln2, bl.fcW.v, bl.fcB.v))
	e.do(nn.GELUForward(bl.fchGelu, bl.fch, nn.GELUTanh))
	e.do(nn.LinearForward(bl.out, bl.fchGelu, bl.fcpW.v, bl.fcpB.v))
	if m.dropped {
		e.do(nn.DropoutForward(bl.out, bl.mask2, bl.out, hp.dropout, m.drop.Split(uint64(m.trainForwards)).Split(uint64(2*l+1))))
	}
	e.do(nn.ResidualForward(bl.out, bl.out, bl.res1))
	if e.err != nil {
		return errorf("block %d: %w", l, e.err)
	}
	return nil
}

// describe renders a tensor from another component for an error message.
func describe(t *tensor.Tensor) string {
	if t == nil {
		return "nil"
	}
	return tensor.FormatShape(t.Shape)
}

// loadBatch validates the batch and copies its ids and key mask into the
// model's buffers (Backward needs them unchanged). It returns B and T.
func (m *model) loadBatch(batch *sdk.Batch) (b, t int, err error) {
	if batch == nil || batch.Inputs == nil {
		return 0, 0, errorf("Forward needs batch.Inputs, the token ids (B, T)")
	}
	in := batch.Inputs
	hp := &m.hp
	if len(in.Shape) != 2 || in.Shape[0] < 1 || in.Shape[0] > hp.maxBatch || in.Shape[1] < 1 || in.Shape[1] > hp.seqLen || len(in.Data) != in.Shape[0]*in.Shape[1] {
		return 0, 0, errorf("batch.Inputs has shape %s and %d ids, want (B, T) with 1 <= B <= %d and 1 <= T <= %d (the objective's batch and sequence length)",
			tensor.FormatShape(in.Shape), len(in.Data), hp.maxBatch, hp.seqLen)
	}
	b, t = in.Shape[0], in.Shape[1]
	for i, id := range in.Data {
		if id < 0 || int(id) >= hp.vocab {
			return 0, 0, errorf("batch.Inputs[%d, %d] = %d is outside the vocabulary [0, %d)", i/t, i%t, id, hp.vocab)
		}
	}
	m.mask = nil
	if km := batch.KeyMask; km != nil {
		if !m.paddingMask {
			return 0, 0, errorf("the batch has a key mask but the attention component does not list the \"padding_mask\" capability")
		}
		if !tensor.SameShape(km.Shape, in.Shape) || len(km.Data) != b*t {
			return 0, 0, errorf("batch.KeyMask has shape %s and %d flags, want the inputs' shape %s", tensor.FormatShape(km.Shape), len(km.Data), tensor.FormatShape(in.Shape))
		}
		mask := m.mskBuf[:b*t]
		for i, f := range km.Data {
			if f != 0 && f != 1 {
				return 0, 0, errorf("batch.KeyMask[%d, %d] = %d: want 1 for a token or 0 for padding", i/t, i%t, f)
			}
			mask[i] = f == 1
		}
		m.mask = mask
	}
	m.ids = m.idsBuf[:b*t]
	copy(m.ids, in.Data)
	return b, t, nil
}
