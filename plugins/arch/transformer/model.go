package transformer

import (
	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// New returns the transformer. Call Init before Forward.
func New() sdk.Architecture { return &model{} }

// model is the transformer in one of its three shapes (see doc.go). Shapes
// use B for the batch, C for d_model, H heads of D = C/H, F = mlp_ratio·C,
// V the vocabulary and K the classes; T is a stack's sequence: Te of the
// encoder (at most S, the objective's SeqLen) and Td of the decoder (at
// most S in a decoder-only model, TargetLen in an encoder-decoder).
// Activations are allocated once for the largest batch and sequences and
// resized (see view) per Forward.
type model struct {
	zero zeroJob // Backward's zeroing of the activation gradients
	qkv  qkvJob  // the self-attention projections, head by head (qkvheads.go)
	hp   hparams
	attn sdk.AttentionLayers
	// paddingMask is whether attn accepts a key-padding mask.
	paddingMask bool

	wte *param // (V, C) token embedding of every stack; also the LM head when tied
	// rope tables (max(S, Td), D/2), with positions = rope
	ropeCos, ropeSin *tensor.Tensor
	enc              *stack // shapes encoder and encoder-decoder; nil for decoder
	dec              *stack // shapes decoder and encoder-decoder; nil for encoder
	head             *param // (V, C) LM head: wte when tied; nil when classifying
	clsW, clsB       *param // (K, C), (K) classification head; nil for per-token logits

	pooled, dpooled *tensor.Tensor // (B, C), (B, C) pooled final states, when classifying
	logits          *tensor.Tensor // (B, Td or Te, V) or (B, K): returned by Forward

	params []*param        // every trainable tensor once, in a fixed order
	opt    optim.Optimizer // AdamW or SGD over params
	drop   *rng.RNG        // root of the dropout streams

	forwarded     bool // the last Forward succeeded: Backward may run
	dropped       bool // it applied dropout
	trainForwards int  // training Forwards so far: keys the dropout streams
	// encReady says the encoder's activations (and the cross-attention
	// keys and values) are those of the last Forward, an evaluation, with
	// the current parameters: an evaluation Forward of the same encoder
	// inputs reuses them (greedy decoding calls Forward TargetLen times
	// with the same inputs). Any training Forward and every Step clear it;
	// parameters change only through Step.
	encReady bool
}

// param is one trainable tensor and its gradient.
type param struct {
	name    string
	v, g    *tensor.Tensor
	noDecay bool
}

// view is an activation buffer allocated for the largest batch and
// sequence, with a tensor header that Forward resizes to the batch's (B, T)
// without allocating: every activation is batch-major and time-second (or
// third, for heads), so a smaller (B, T) is a prefix of the buffer. A view
// without a T dimension (tdim < 0) resizes its batch only.
type view struct {
	buf  []float32
	tdim int // index of the T dimension in the shape, or -1
	t    tensor.Tensor
}

func (v *view) resize(b, t int) {
	v.t.Shape[0] = b
	if v.tdim >= 0 {
		v.t.Shape[v.tdim] = t
	}
	v.t.Data = v.buf[:tensor.Numel(v.t.Shape)]
}

// act allocates an activation of the given full shape, whose T dimension
// is tdim (that of stack s), and returns its resizable header.
func (m *model) act(s *stack, tdim int, shape ...int) *tensor.Tensor {
	// Activations live in shared memory when the model runs as a plugin,
	// so q, k, v and their gradients reach the attention process without
	// a copy (sdk.NewTensor is an ordinary allocation in-process).
	v := &view{buf: sdk.NewTensor(tensor.Numel(shape)).Data, tdim: tdim, t: tensor.Tensor{Shape: append([]int(nil), shape...)}}
	v.t.Data = v.buf
	s.views = append(s.views, v)
	return &v.t
}

// grad is act for an activation gradient, which Backward zeroes.
func (m *model) grad(s *stack, tdim int, shape ...int) *tensor.Tensor {
	g := m.act(s, tdim, shape...)
	s.grads = append(s.grads, g)
	return g
}

// gradTo is act for an activation gradient whose first writer in Backward
// overwrites it (nn.LinearBackwardTo and GELUBackwardTo,
// attention.SplitHeadsBackwardTo and MergeHeadsBackwardTo, setGrad), so
// Backward need not zero it: the reference model's step zeroed some 36 MB
// of them, and the accumulating kernels read them back.
func (m *model) gradTo(s *stack, tdim int, shape ...int) *tensor.Tensor {
	return m.act(s, tdim, shape...)
}

// setGrad copies src into dst, an activation gradient's first write, where
// nn.ResidualBackward would add it.
func setGrad(dst, src *tensor.Tensor) error {
	if !tensor.SameShape(dst.Shape, src.Shape) || len(dst.Data) != len(src.Data) {
		return errorf("gradient of shape %s set from one of shape %s", tensor.FormatShape(dst.Shape), tensor.FormatShape(src.Shape))
	}
	copy(dst.Data, src.Data)
	return nil
}

func (m *model) newParam(name string, noDecay bool, shape ...int) *param {
	p := &param{name: name, v: tensor.New(shape...), g: tensor.New(shape...), noDecay: noDecay}
	m.params = append(m.params, p)
	return p
}

// top is the stack whose final states feed the head: the decoder, or the
// encoder of an encoder-only model.
func (m *model) top() *stack {
	if m.dec != nil {
		return m.dec
	}
	return m.enc
}

func (m *model) Init(cfg sdk.Config, in sdk.InputSpec, opt sdk.Optimizer, attn sdk.AttentionLayers, seed uint64) error {
	*m = model{}
	hp, err := parse(m.Describe(), cfg, in)
	if err != nil {
		return err
	}
	if attn == nil {
		return errorf("Init needs an attention component, got nil")
	}
	ad := attn.Describe()
	if hp.shape != shapeEncoder && !ad.Has("causal") {
		what := "a decoder-only model"
		if hp.shape == shapeEncDec {
			what = "the decoder of an encoder-decoder"
		}
		return errorf("attention %q does not list the \"causal\" capability, which %s needs", ad.Name, what)
	}
	if hp.kvHeads < hp.heads && !ad.Has("kv_heads") {
		return errorf("kv_heads = %d < heads = %d, but attention %q does not list the \"kv_heads\" capability (grouped key/value heads): set kv_heads = 0 or use an attention that has it", hp.kvHeads, hp.heads, ad.Name)
	}
	m.hp, m.attn, m.paddingMask = hp, attn, ad.Has("padding_mask")
	m.build()
	root := rng.New(seed)
	m.initWeights(root)
	m.drop = root.SplitName("dropout")
	if m.opt, err = newOptimizer(opt, m.params); err != nil {
		return err
	}
	if err = attn.Init(m.attentionSpec(root.SplitName("attention").Uint64())); err != nil {
		m.opt = nil
		return errorf("Init of attention %q: %w", ad.Name, err)
	}
	return nil
}

// attentionSpec describes every attention layer, in the order of their
// indices: the encoder's self-attention layers, then for each decoder block
// its self-attention and its cross-attention. A decoder-only model keeps
// the plain causal spec without LayerSpecs.
func (m *model) attentionSpec(seed uint64) sdk.AttentionSpec {
	hp := m.hp
	spec := sdk.AttentionSpec{
		Heads: hp.heads, KVHeads: hp.kvHeads, HeadDim: hp.headDim,
		MaxSeq: max(hp.seqLen, hp.targetLen), Batch: hp.maxBatch, Seed: seed,
	}
	switch hp.shape {
	case shapeDecoder:
		spec.Layers, spec.Causal = hp.layers, true
		return spec
	case shapeEncDec:
		spec.Causal = true // the decoder's self-attention; LayerSpecs say which layers
	}
	self := func(causal bool, t int) sdk.AttentionLayer {
		return sdk.AttentionLayer{Role: sdk.RoleSelf, Causal: causal, MaxQ: t, MaxK: t}
	}
	for range m.enc.blocks {
		spec.LayerSpecs = append(spec.LayerSpecs, self(false, hp.seqLen))
	}
	if m.dec != nil {
		for range m.dec.blocks {
			spec.LayerSpecs = append(spec.LayerSpecs, self(true, hp.targetLen),
				sdk.AttentionLayer{Role: sdk.RoleCross, MaxQ: hp.targetLen, MaxK: hp.seqLen})
		}
	}
	spec.Layers = len(spec.LayerSpecs)
	return spec
}

// NumParams counts every trainable element once (a tied LM head is the
// token embedding, counted once).
func (m *model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += len(p.v.Data)
	}
	return n
}
