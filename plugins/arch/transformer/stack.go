package transformer

import (
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// stack is one tower of blocks over one token sequence: token embedding
// (the model's shared wte) plus positions, the blocks, and a final layer
// norm. A decoder-only or encoder-only model has one stack; an
// encoder-decoder has two, the encoder over batch.Inputs (T = Te <= S) and
// the decoder over batch.DecoderInputs (T = Td <= TargetLen), whose blocks
// read the encoder's final states through cross-attention.
type stack struct {
	label  string // "" for the only stack, "encoder " or "decoder ", for errors
	prefix string // parameter names: "" for the only stack, "enc." or "dec."
	maxT   int    // longest sequence: S, or TargetLen for the decoder of an encoder-decoder

	wpe        *param // (maxT, C) learned or sinusoidal positions; nil with rope
	blocks     []*block
	lnfW, lnfB *param // (C), (C)

	// views are the activations whose T is this stack's, resized together;
	// grads are the activation gradients among them, zeroed by Backward.
	views []*view
	grads []*tensor.Tensor

	ids    []int32 // (B·T) of idsBuf: the last Forward's token ids
	idsBuf []int32 // (Batch·maxT)
	// mask is the key mask of this stack's tokens, nil if none: the
	// batch's KeyMask for the stack over batch.Inputs. Self-attention and
	// (over the encoder's tokens) cross-attention use it.
	mask   []bool // (B·T) of mskBuf
	mskBuf []bool // (Batch·maxT)

	x, dx        *tensor.Tensor // (B, T, C) embeddings, input of the first block
	lnf, dlnf    *tensor.Tensor // (B, T, C) final states (ln_f's output) and their gradient
	lnfMu, lnfRs *tensor.Tensor // (B, T), (B, T)
	b, t         int            // shape of the last Forward's tokens
}

// stackOpts say how to build a stack.
type stackOpts struct {
	label, prefix string
	maxT, layers  int
	firstLayer    int    // attention layer of block 0's self-attention
	layerStride   int    // attention layers per block: 1, or 2 with cross-attention
	firstBlock    int    // index of block 0 among all blocks, for the dropout streams
	crossBlocks   int    // blocks of the whole model: cross-attention dropout streams follow the blocks'
	cross         *stack // the encoder that cross-attention reads; nil for none
}

// newStack allocates a stack's parameters, gradients and activations.
// Parameters are created in the order wpe, blocks, ln_f, the order of
// m.params (GradNormSq's sum and the optimiser's).
func (m *model) newStack(o stackOpts) *stack {
	hp := m.hp
	bs, c := hp.maxBatch, hp.dModel
	s := &stack{label: o.label, prefix: o.prefix, maxT: o.maxT}
	switch {
	case hp.rope:
		// No additive positions: q and k are rotated in every
		// self-attention layer.
	case hp.sinusoid:
		// A fixed table: not a parameter, never updated.
		s.wpe = &param{name: o.prefix + "wpe.sinusoidal", v: tensor.New(o.maxT, c)}
		if err := nn.SinusoidalPositions(s.wpe.v); err != nil {
			panic(err) // c is checked even in parse
		}
	default:
		s.wpe = m.newParam(o.prefix+"wpe.weight", true, o.maxT, c)
	}
	for l := range o.layers {
		bl := m.newBlock(s, l, o.firstLayer+o.layerStride*l, o.firstBlock+l)
		if o.cross != nil {
			bl.cross = m.newCross(s, o.cross, bl.name, o.firstLayer+o.layerStride*l+1, uint64(2*o.crossBlocks+l))
		}
		s.blocks = append(s.blocks, bl)
	}
	s.lnfW, s.lnfB = m.newParam(o.prefix+"ln_f.weight", true, c), m.newParam(o.prefix+"ln_f.bias", true, c)
	for _, bl := range s.blocks {
		if bl.cross != nil {
			s.grads = append(s.grads, bl.dres1) // crossBackward accumulates into it first
		}
	}
	last := s.blocks[len(s.blocks)-1]
	s.grads = append(s.grads, last.dout) // the final layer norm's backward accumulates into it
	// dx's first writer is block 0's residual (setGrad), before the
	// embeddings' backward reads it.
	s.x, s.dx = m.act(s, 1, bs, o.maxT, c), m.gradTo(s, 1, bs, o.maxT, c)
	s.lnf, s.lnfMu, s.lnfRs, s.dlnf = m.act(s, 1, bs, o.maxT, c), m.act(s, 1, bs, o.maxT), m.act(s, 1, bs, o.maxT), m.grad(s, 1, bs, o.maxT, c)
	s.idsBuf, s.mskBuf = make([]int32, bs*o.maxT), make([]bool, bs*o.maxT)
	return s
}

// resize points every activation of the stack at the batch's (B, T).
func (s *stack) resize(b, t int) {
	for _, v := range s.views {
		v.resize(b, t)
	}
	s.b, s.t = b, t
}

// stackForward runs stack s on its ids (set by loadBatch), leaving s.lnf:
//
//	x   = wte[ids] + wpe[:T]
//	out = blocks(x)
//	lnf = ln_f(out)
func (m *model) stackForward(s *stack) error {
	var e firstErr
	e.do(nn.EmbeddingForward(s.x, s.ids, m.wte.v))
	if s.wpe != nil {
		e.do(nn.PositionForward(s.x, s.x, s.wpe.v))
	}
	if e.err != nil {
		return errorf("%sembeddings: %w", s.label, e.err)
	}
	in := s.x
	for _, bl := range s.blocks {
		if err := m.blockForward(s, bl, in); err != nil {
			return err
		}
		in = bl.out
	}
	if err := nn.LayerNormForward(s.lnf, s.lnfMu, s.lnfRs, in, s.lnfW.v, s.lnfB.v, m.hp.lnEps); err != nil {
		return errorf("%sfinal layer norm: %w", s.label, err)
	}
	return nil
}

// stackBackward accumulates the stack's parameter gradients and the token
// embedding's from s.dlnf, the gradient of its final states.
func (m *model) stackBackward(s *stack) error {
	last := s.blocks[len(s.blocks)-1] // layers >= 1
	if err := nn.LayerNormBackward(last.dout, s.lnfW.g, s.lnfB.g, s.dlnf, last.out, s.lnfW.v, s.lnfMu, s.lnfRs); err != nil {
		return errorf("%sfinal layer norm backward: %w", s.label, err)
	}
	for l := len(s.blocks) - 1; l >= 0; l-- {
		in, din := s.x, s.dx
		if l > 0 {
			in, din = s.blocks[l-1].out, s.blocks[l-1].dout
		}
		if err := m.blockBackward(s, s.blocks[l], in, din); err != nil {
			return err
		}
	}
	// x = wte[ids] + wpe[:T]
	var e firstErr
	if s.wpe != nil && s.wpe.g != nil {
		e.do(nn.PositionBackward(nil, s.wpe.g, s.dx))
	}
	e.do(nn.EmbeddingBackward(m.wte.g, s.dx, s.ids))
	if e.err != nil {
		return errorf("%sembeddings backward: %w", s.label, e.err)
	}
	return nil
}
