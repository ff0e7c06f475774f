package transformer

import (
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Backward accumulates into every parameter gradient the gradient of the
// loss given dout, the gradient of the last Forward's output (its shape).
// Step zeroes the parameter gradients; activation gradients are zeroed
// here, since the kernels accumulate. In an encoder-decoder the decoder
// runs first: its cross-attention layers accumulate the gradient of the
// encoder's final states, through which the encoder's parameters learn.
func (m *model) Backward(dout *tensor.Tensor) error {
	if m.opt == nil {
		return errorf("Backward called before a successful Init")
	}
	if !m.forwarded {
		return errorf("Backward without a successful Forward")
	}
	if dout == nil {
		return errorf("Backward: dout is nil, want the gradient of the logits %s", tensor.FormatShape(m.logits.Shape))
	}
	if !tensor.SameShape(dout.Shape, m.logits.Shape) || len(dout.Data) != len(m.logits.Data) {
		return errorf("Backward: dout has shape %s and %d elements, want the logits' shape %s", tensor.FormatShape(dout.Shape), len(dout.Data), tensor.FormatShape(m.logits.Shape))
	}
	m.zeroGrads()
	top := m.top()
	if m.clsW != nil {
		if err := m.classifyBackward(top, dout); err != nil {
			return errorf("classification head backward: %w", err)
		}
	} else if err := nn.LinearBackward(top.dlnf, m.head.g, nil, dout, top.lnf, m.head.v); err != nil {
		// logits = ln_f(out)·headᵀ
		return errorf("LM head backward: %w", err)
	}
	if m.dec != nil {
		if err := m.stackBackward(m.dec); err != nil {
			return err
		}
	}
	if m.enc != nil {
		if err := m.stackBackward(m.enc); err != nil {
			return err
		}
	}
	return nil
}

// zeroGrads zeroes every activation gradient, the tensors split between
// the kernel pool's threads (a step's activation gradients are tens of
// megabytes).
func (m *model) zeroGrads() {
	z := &m.zero
	z.ts = z.ts[:0]
	for _, s := range []*stack{m.enc, m.dec} {
		if s != nil {
			z.ts = append(z.ts, s.grads...)
		}
	}
	parallel.Do(len(z.ts), z)
}

// zeroJob zeroes one tensor per part.
type zeroJob struct{ ts []*tensor.Tensor }

func (z *zeroJob) Run(part int) { z.ts[part].Zero() }
