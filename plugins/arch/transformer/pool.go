package transformer

import (
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// The classification head (Output "classes"): the top stack's final states
// h (B, T, C) are pooled into one vector per example, and a linear layer
// gives the class logits:
//
//	pooled[b] = h[b, 0]                                   pool = cls (BERT's [CLS])
//	pooled[b] = Σ_t mask[b,t]·h[b,t] / Σ_t mask[b,t]      pool = mean (real tokens only)
//	logits    = pooled · cls_head.weightᵀ + cls_head.bias  (B, K)
//
// cls pooling reads position 0, so the objective must put a real token
// (its class token) first: padding goes on the right. BERT's pooler (a
// dense layer and tanh before the classifier) is left out; the head is
// the single linear layer of RoBERTa-style probes.

// newClassifier allocates the head's parameters and buffers, batch-sized
// views of the top stack (they have no T dimension).
func (m *model) newClassifier(top *stack) {
	c, k, bs := m.hp.dModel, m.hp.classes, m.hp.maxBatch
	m.clsW, m.clsB = m.newParam("cls_head.weight", false, k, c), m.newParam("cls_head.bias", true, k)
	m.pooled, m.dpooled = m.act(top, -1, bs, c), m.grad(top, -1, bs, c)
	m.logits = m.act(top, -1, bs, k)
}

// classify sets m.logits (B, K) from the top stack's final states.
func (m *model) classify(top *stack) error {
	poolForward(m.pooled, top.lnf, top.mask, m.hp.poolMean)
	return nn.LinearForward(m.logits, m.pooled, m.clsW.v, m.clsB.v)
}

// classifyBackward accumulates the head's gradients and top.dlnf from
// dout (B, K).
func (m *model) classifyBackward(top *stack, dout *tensor.Tensor) error {
	if err := nn.LinearBackward(m.dpooled, m.clsW.g, m.clsB.g, dout, m.pooled, m.clsW.v); err != nil {
		return err
	}
	poolBackward(top.dlnf, m.dpooled, top.mask, m.hp.poolMean)
	return nil
}

// poolForward sets pooled (B, C) from h (B, T, C) with the key mask (nil:
// every token is real). An example without a real token pools to zeros.
func poolForward(pooled, h *tensor.Tensor, mask []bool, mean bool) {
	b, t, c := h.Shape[0], h.Shape[1], h.Shape[2]
	for bi := range b {
		dst := pooled.Data[bi*c : (bi+1)*c]
		if !mean {
			copy(dst, h.Data[bi*t*c:(bi*t+1)*c])
			continue
		}
		clear(dst)
		n := 0
		for ti := range t {
			if mask == nil || mask[bi*t+ti] {
				vmath.Axpy(1, h.Data[(bi*t+ti)*c:(bi*t+ti+1)*c], dst)
				n++
			}
		}
		if n > 0 {
			inv := 1 / float32(n)
			for i := range dst {
				dst[i] *= inv
			}
		}
	}
}

// poolBackward accumulates into dh (B, T, C) the gradient of poolForward
// given dpooled (B, C).
func poolBackward(dh, dpooled *tensor.Tensor, mask []bool, mean bool) {
	b, t, c := dh.Shape[0], dh.Shape[1], dh.Shape[2]
	for bi := range b {
		src := dpooled.Data[bi*c : (bi+1)*c]
		if !mean {
			vmath.Axpy(1, src, dh.Data[bi*t*c:(bi*t+1)*c])
			continue
		}
		n := 0
		for ti := range t {
			if mask == nil || mask[bi*t+ti] {
				n++
			}
		}
		if n == 0 {
			continue
		}
		inv := 1 / float32(n)
		for ti := range t {
			if mask == nil || mask[bi*t+ti] {
				vmath.Axpy(inv, src, dh.Data[(bi*t+ti)*c:(bi*t+ti+1)*c])
			}
		}
	}
}
