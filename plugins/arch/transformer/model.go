package transformer

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// New returns the decoder-only transformer. Call Init before Forward.
func New() sdk.Architecture { return &model{} }

// model is the GPT. Shapes use B for the batch, T for the sequence, C for
// d_model, H heads of D = C/H, F = mlp_ratio·C, V the vocabulary, S the
// longest sequence and L the number of blocks. Activations are allocated
// once for the largest batch and S and resized (see view) per Forward.
type model struct {
	hp   hparams
	attn sdk.AttentionLayers
	// paddingMask is whether attn accepts a key-padding mask.
	paddingMask bool

	wte *param // (V, C) token embedding; also the LM head when tied
	wpe *param // (S, C) learned or sinusoidal positions; nil with rope
	// rope tables (S, D/2), with positions = rope
	ropeCos, ropeSin *tensor.Tensor
	blocks           []*block
	lnfW             *param // (C)
	lnfB             *param // (C)
	head             *param // (V, C) LM head: wte when tied

	params []*param        // every trainable tensor once, in a fixed order
	opt    optim.Optimizer // AdamW or SGD over params
	drop   *rng.RNG        // root of the dropout streams

	views []*view          // every activation, resized together
	grads []*tensor.Tensor // activation gradients, zeroed by Backward

	ids    []int32        // (B·T) of (Batch·S): the last Forward's token ids
	mask   []bool         // (B·T) of (Batch·S): its key mask, nil if none
	idsBuf []int32        // (Batch·S)
	mskBuf []bool         // (Batch·S)
	x, dx  *tensor.Tensor // (B, T, C) embeddings, input of the first block
	lnf    *tensor.Tensor // (B, T, C)
	lnfMu  *tensor.Tensor // (B, T)
	lnfRs  *tensor.Tensor // (B, T)
	dlnf   *tensor.Tensor // (B, T, C)
	logits *tensor.Tensor // (B, T, V) returned by Forward

	b, t          int  // shape of the last Forward
	forwarded     bool // the last Forward succeeded: Backward may run
	dropped       bool // it applied dropout
	trainForwards int  // training Forwards so far: keys the dropout streams
}

// param is one trainable tensor and its gradient.
type param struct {
	name    string
	v, g    *tensor.Tensor
	noDecay bool
}

// block is one pre-LN transformer block:
//
//	res1 = in + dropout(proj(attention(split(qkv(ln1(in))))))
//	out  = res1 + dropout(fcproj(gelu(fc(ln2(res1)))))
type block struct {
	ln1W, ln1B   *param // (C), (C)
	qkvW, qkvB   *param // (3C, C), (3C)
	projW, projB *param // (C, C), (C)
	ln2W, ln2B   *param // (C), (C)
	fcW, fcB     *param // (F, C), (F)
	fcpW, fcpB   *param // (C, F), (C)

	ln1, ln1Mu, ln1Rs *tensor.Tensor // (B, T, C), (B, T), (B, T)
	qkv               *tensor.Tensor // (B, T, 3C)
	q, k, v           *tensor.Tensor // (B, H, T, D), q and k rotated with rope
	dqRot, dkRot      *tensor.Tensor // (B, H, T, D) rope only: dq, dk before the rotation
	atty              *tensor.Tensor // (B, T, C) attention output, heads merged
	res1              *tensor.Tensor // (B, T, C)
	mask1             *tensor.Tensor // (B, T, C) dropout scales of the attention projection
	ln2, ln2Mu, ln2Rs *tensor.Tensor // (B, T, C), (B, T), (B, T)
	fch, fchGelu      *tensor.Tensor // (B, T, F)
	out               *tensor.Tensor // (B, T, C)
	mask2             *tensor.Tensor // (B, T, C) dropout scales of the MLP projection

	dln1, dqkv, dy, datty, dproj1 *tensor.Tensor // (B, T, C), (B, T, 3C), (B, H, T, D), (B, T, C), (B, T, C)
	dres1, dln2, dfch, dfchGelu   *tensor.Tensor // (B, T, C), (B, T, C), (B, T, F), (B, T, F)
	dproj2, dout                  *tensor.Tensor // (B, T, C), (B, T, C)
}

// view is an activation buffer allocated for the largest batch and
// sequence, with a tensor header that Forward resizes to the batch's (B, T)
// without allocating: every activation is batch-major and time-second (or
// third, for heads), so a smaller (B, T) is a prefix of the buffer.
type view struct {
	buf  []float32
	tdim int // index of the T dimension in the shape
	t    tensor.Tensor
}

func (v *view) resize(b, t int) {
	v.t.Shape[0], v.t.Shape[v.tdim] = b, t
	v.t.Data = v.buf[:tensor.Numel(v.t.Shape)]
}

// act allocates an activation of the given full shape, whose T dimension
// is tdim, and returns its resizable header.
func (m *model) act(tdim int, shape ...int) *tensor.Tensor {
	// Activations live in shared memory when the model runs as a plugin,
	// so q, k, v and their gradients reach the attention process without
	// a copy (sdk.NewTensor is an ordinary allocation in-process).
	v := &view{buf: sdk.NewTensor(tensor.Numel(shape)).Data, tdim: tdim, t: tensor.Tensor{Shape: append([]int(nil), shape...)}}
	v.t.Data = v.buf
	m.views = append(m.views, v)
	return &v.t
}

// grad is act for an activation gradient, which Backward zeroes.
func (m *model) grad(tdim int, shape ...int) *tensor.Tensor {
	g := m.act(tdim, shape...)
	m.grads = append(m.grads, g)
	return g
}

func (m *model) newParam(name string, noDecay bool, shape ...int) *param {
	p := &param{name: name, v: tensor.New(shape...), g: tensor.New(shape...), noDecay: noDecay}
	m.params = append(m.params, p)
	return p
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
	if !ad.Has("causal") {
		return errorf("attention %q does not list the \"causal\" capability, which a decoder-only model needs", ad.Name)
	}
	m.hp, m.attn, m.paddingMask = hp, attn, ad.Has("padding_mask")
	m.build()
	root := rng.New(seed)
	m.initWeights(root)
	m.drop = root.SplitName("dropout")
	if m.opt, err = newOptimizer(opt, m.params); err != nil {
		return err
	}
	err = attn.Init(sdk.AttentionSpec{
		Layers: hp.layers, Heads: hp.heads, KVHeads: hp.heads, HeadDim: hp.headDim,
		MaxSeq: hp.seqLen, Batch: hp.maxBatch, Causal: true,
		Seed: root.SplitName("attention").Uint64(),
	})
	if err != nil {
		m.opt = nil
		return errorf("Init of attention %q: %w", ad.Name, err)
	}
	return nil
}

// build allocates every parameter, gradient and activation. The order of
// m.params is the order of GradNormSq's sum and of the optimiser.
func (m *model) build() {
	hp := m.hp
	bs, s, c, h, d, f, v := hp.maxBatch, hp.seqLen, hp.dModel, hp.heads, hp.headDim, hp.hidden, hp.vocab
	// Decay follows minGPT's configure_optimizers: matrices decay; biases,
	// norm gains and the position table do not (see doc.go).
	m.wte = m.newParam("wte.weight", false, v, c)
	if hp.rope {
		// No additive positions: q and k are rotated in every block.
		m.ropeCos, m.ropeSin = tensor.New(s, d/2), tensor.New(s, d/2)
		if err := attention.RotaryTables(m.ropeCos, m.ropeSin, 10000); err != nil {
			panic(err) // head_dim is checked even in parse
		}
	} else if hp.sinusoid {
		// A fixed table: not a parameter, never updated.
		m.wpe = &param{name: "wpe.sinusoidal", v: tensor.New(s, c)}
		if err := nn.SinusoidalPositions(m.wpe.v); err != nil {
			panic(err) // c is checked even in parse
		}
	} else {
		m.wpe = m.newParam("wpe.weight", true, s, c)
	}
	for l := range hp.layers {
		n := func(s string) string { return fmt.Sprintf("h.%d.%s", l, s) }
		bl := &block{
			ln1W: m.newParam(n("ln_1.weight"), true, c), ln1B: m.newParam(n("ln_1.bias"), true, c),
			qkvW: m.newParam(n("attn.c_attn.weight"), false, 3*c, c), qkvB: m.newParam(n("attn.c_attn.bias"), true, 3*c),
			projW: m.newParam(n("attn.c_proj.weight"), false, c, c), projB: m.newParam(n("attn.c_proj.bias"), true, c),
			ln2W: m.newParam(n("ln_2.weight"), true, c), ln2B: m.newParam(n("ln_2.bias"), true, c),
			fcW: m.newParam(n("mlp.c_fc.weight"), false, f, c), fcB: m.newParam(n("mlp.c_fc.bias"), true, f),
			fcpW: m.newParam(n("mlp.c_proj.weight"), false, c, f), fcpB: m.newParam(n("mlp.c_proj.bias"), true, c),
		}
		bl.ln1, bl.ln1Mu, bl.ln1Rs = m.act(1, bs, s, c), m.act(1, bs, s), m.act(1, bs, s)
		bl.qkv = m.act(1, bs, s, 3*c)
		bl.q, bl.k, bl.v = m.act(2, bs, h, s, d), m.act(2, bs, h, s, d), m.act(2, bs, h, s, d)
		bl.atty, bl.res1, bl.mask1 = m.act(1, bs, s, c), m.act(1, bs, s, c), m.act(1, bs, s, c)
		bl.ln2, bl.ln2Mu, bl.ln2Rs = m.act(1, bs, s, c), m.act(1, bs, s), m.act(1, bs, s)
		bl.fch, bl.fchGelu = m.act(1, bs, s, f), m.act(1, bs, s, f)
		bl.out, bl.mask2 = m.act(1, bs, s, c), m.act(1, bs, s, c)
		bl.dln1, bl.dqkv, bl.dy = m.grad(1, bs, s, c), m.grad(1, bs, s, 3*c), m.grad(2, bs, h, s, d)
		bl.datty, bl.dproj1, bl.dres1 = m.grad(1, bs, s, c), m.grad(1, bs, s, c), m.grad(1, bs, s, c)
		bl.dln2, bl.dfch, bl.dfchGelu = m.grad(1, bs, s, c), m.grad(1, bs, s, f), m.grad(1, bs, s, f)
		bl.dproj2, bl.dout = m.grad(1, bs, s, c), m.grad(1, bs, s, c)
		if hp.rope {
			bl.dqRot, bl.dkRot = m.act(2, bs, h, s, d), m.act(2, bs, h, s, d)
		}
		m.blocks = append(m.blocks, bl)
	}
	m.lnfW, m.lnfB = m.newParam("ln_f.weight", true, c), m.newParam("ln_f.bias", true, c)
	m.head = m.wte
	if !hp.tied {
		m.head = m.newParam("lm_head.weight", false, v, c)
	}
	m.x, m.dx = m.act(1, bs, s, c), m.grad(1, bs, s, c)
	m.lnf, m.lnfMu, m.lnfRs, m.dlnf = m.act(1, bs, s, c), m.act(1, bs, s), m.act(1, bs, s), m.grad(1, bs, s, c)
	m.logits = m.act(1, bs, s, v)
	m.idsBuf, m.mskBuf = make([]int32, bs*s), make([]bool, bs*s)
}

// initWeights is GPT-2's initialisation as nanoGPT writes it: weights and
// embeddings normal(0, init_std), the two residual projections of every
// block normal(0, init_std/√(2L)) (GPT-2 paper §2.3), biases 0, norm gains
// 1. Each tensor draws from its own stream, split from the seed by name,
// so one tensor's values do not depend on the others (tied or untied, the
// shared tensors start equal).
func (m *model) initWeights(root *rng.RNG) {
	std := m.hp.initStd
	resid := float32(float64(std) / math.Sqrt(2*float64(m.hp.layers)))
	normal := func(p *param, s float32) { root.SplitName("init/"+p.name).FillNormal(p.v.Data, 0, s) }
	ones := func(p *param) {
		for i := range p.v.Data {
			p.v.Data[i] = 1
		}
	}
	normal(m.wte, std)
	if !m.hp.sinusoid && !m.hp.rope {
		normal(m.wpe, std)
	}
	for _, bl := range m.blocks {
		ones(bl.ln1W)
		ones(bl.ln2W)
		normal(bl.qkvW, std)
		normal(bl.projW, resid)
		normal(bl.fcW, std)
		normal(bl.fcpW, resid)
	}
	ones(m.lnfW)
	if !m.hp.tied {
		normal(m.head, std)
	}
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
