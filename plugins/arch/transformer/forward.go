package transformer

import (
	"fmt"

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

// Forward returns the model's output for the batch, with B <= the
// objective's batch and sequences up to its lengths:
//
//	decoder          logits (B, T, V) for batch.Inputs (B, T)
//	encoder          logits (B, T, V), or class logits (B, K)
//	encoder-decoder  logits (B, Td, V) for batch.DecoderInputs (B, Td),
//	                 reading batch.Inputs (B, Te) through cross-attention
//
// train applies dropout. The output belongs to the model until the next
// Forward. An evaluation Forward whose encoder inputs and key mask are
// those of the previous Forward (an evaluation too, with no Step since)
// reuses the encoder's states instead of recomputing them, bit for bit
// the same: greedy decoding runs the decoder TargetLen times per batch.
func (m *model) Forward(batch *sdk.Batch, train bool) (*tensor.Tensor, error) {
	if m.opt == nil {
		return nil, errorf("Forward called before a successful Init")
	}
	m.forwarded = false
	if err := m.checkBatch(batch); err != nil {
		return nil, err
	}
	reuse := !train && m.encReady && m.sameEncoderInputs(batch)
	m.encReady = false
	m.loadBatch(batch)
	m.dropped = train && m.hp.dropout > 0
	if m.dropped {
		m.trainForwards++
	}
	if m.enc != nil && !reuse {
		if err := m.stackForward(m.enc); err != nil {
			return nil, err
		}
		if m.dec != nil {
			for _, bl := range m.dec.blocks {
				if err := m.crossKV(bl.cross); err != nil {
					return nil, errorf("%s: cross-attention keys and values: %w", bl.label(m.dec), err)
				}
			}
		}
	}
	if m.dec != nil {
		if err := m.stackForward(m.dec); err != nil {
			return nil, err
		}
	}
	top := m.top()
	if m.clsW != nil {
		if err := m.classify(top); err != nil {
			return nil, errorf("classification head: %w", err)
		}
	} else if err := nn.LinearForward(m.logits, top.lnf, m.head.v, nil); err != nil {
		return nil, errorf("LM head: %w", err)
	}
	m.forwarded = true
	m.encReady = m.enc != nil && !train
	return m.logits, nil
}

// describe renders a tensor from another component for an error message.
func describe(t *tensor.Tensor) string {
	if t == nil {
		return "nil"
	}
	return tensor.FormatShape(t.Shape)
}

// inputStacks returns the stack over batch.Inputs (the encoder, or the
// only stack) and the stack over batch.DecoderInputs (nil unless an
// encoder-decoder).
func (m *model) inputStacks() (in, decIn *stack) {
	if m.enc == nil {
		return m.dec, nil
	}
	return m.enc, m.dec
}

// checkBatch validates the batch before anything of the model changes.
func (m *model) checkBatch(batch *sdk.Batch) error {
	if batch == nil || batch.Inputs == nil {
		return errorf("Forward needs batch.Inputs, the token ids (B, T)")
	}
	in := batch.Inputs
	hp := &m.hp
	if err := m.checkIDs("batch.Inputs", in, 0, hp.maxBatch, hp.seqLen, "the objective's batch and sequence length"); err != nil {
		return err
	}
	b, t := in.Shape[0], in.Shape[1]
	if km := batch.KeyMask; km != nil {
		if !m.paddingMask {
			return errorf("the batch has a key mask but the attention component does not list the \"padding_mask\" capability")
		}
		if !tensor.SameShape(km.Shape, in.Shape) || len(km.Data) != b*t {
			return errorf("batch.KeyMask has shape %s and %d flags, want the inputs' shape %s", tensor.FormatShape(km.Shape), len(km.Data), tensor.FormatShape(in.Shape))
		}
		for i, f := range km.Data {
			if f != 0 && f != 1 {
				return errorf("batch.KeyMask[%d, %d] = %d: want 1 for a token or 0 for padding", i/t, i%t, f)
			}
		}
	}
	if _, decIn := m.inputStacks(); decIn != nil {
		if batch.DecoderInputs == nil {
			return errorf("an encoder-decoder needs batch.DecoderInputs, the decoder's tokens (B, T) with T <= the objective's target length %d", hp.targetLen)
		}
		if err := m.checkIDs("batch.DecoderInputs", batch.DecoderInputs, b, hp.maxBatch, hp.targetLen, "the inputs' batch and the objective's target length"); err != nil {
			return err
		}
	}
	return nil
}

// checkIDs validates token ids x (B, T) with 1 <= T <= maxT and
// 1 <= B <= maxB, or B = fixedB if fixedB > 0; limits says where the
// bounds come from.
func (m *model) checkIDs(what string, x *sdk.Ints, fixedB, maxB, maxT int, limits string) error {
	okB := len(x.Shape) == 2 && x.Shape[0] >= 1 && x.Shape[0] <= maxB && (fixedB == 0 || x.Shape[0] == fixedB)
	if !okB || x.Shape[1] < 1 || x.Shape[1] > maxT || len(x.Data) != x.Shape[0]*x.Shape[1] {
		want := fmt.Sprintf("1 <= B <= %d", maxB)
		if fixedB > 0 {
			want = fmt.Sprintf("B = %d", fixedB)
		}
		return errorf("%s has shape %s and %d ids, want (B, T) with %s and 1 <= T <= %d (%s)", what, tensor.FormatShape(x.Shape), len(x.Data), want, maxT, limits)
	}
	t := x.Shape[1]
	for i, id := range x.Data {
		if id < 0 || int(id) >= m.hp.vocab {
			return errorf("%s[%d, %d] = %d is outside the vocabulary [0, %d)", what, i/t, i%t, id, m.hp.vocab)
		}
	}
	return nil
}

// sameEncoderInputs reports whether a checked batch's encoder inputs and
// key mask equal the last Forward's.
func (m *model) sameEncoderInputs(batch *sdk.Batch) bool {
	e, in := m.enc, batch.Inputs
	if e == nil || in.Shape[0] != e.b || in.Shape[1] != e.t || (batch.KeyMask == nil) != (e.mask == nil) {
		return false
	}
	for i, id := range in.Data {
		if e.ids[i] != id {
			return false
		}
	}
	if e.mask != nil {
		for i, f := range batch.KeyMask.Data {
			if e.mask[i] != (f == 1) {
				return false
			}
		}
	}
	return true
}

// loadBatch copies a checked batch's ids and key mask into the stacks'
// buffers (Backward needs them unchanged, and the caller may change the
// batch) and resizes every activation to the batch.
func (m *model) loadBatch(batch *sdk.Batch) {
	in := batch.Inputs
	b, t := in.Shape[0], in.Shape[1]
	s, decIn := m.inputStacks()
	s.ids = s.idsBuf[:b*t]
	copy(s.ids, in.Data)
	s.mask = nil
	if km := batch.KeyMask; km != nil {
		s.mask = s.mskBuf[:b*t]
		for i, f := range km.Data {
			s.mask[i] = f == 1
		}
	}
	s.resize(b, t)
	if decIn != nil {
		di := batch.DecoderInputs
		td := di.Shape[1]
		decIn.ids = decIn.idsBuf[:b*td]
		copy(decIn.ids, di.Data)
		decIn.mask = nil // causal self-attention; right padding needs no mask
		decIn.resize(b, td)
	}
}
