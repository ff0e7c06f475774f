package kernels_test

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// gpt2 is a test-only GPT-2 (pre-LN blocks, as in llm.c and nanoGPT) built
// from the kernels, used to check that they compose: against PyTorch's
// gradients for a whole block, and for an allocation-free training step.
// The real architecture plugin lives in plugins/arch/transformer.
type gpt2 struct {
	B, T, C, H, V int

	wte, wpe *param // (V, C), (T, C); nil when the input is given as x
	blocks   []*block
	lnfW     *param // (C)
	lnfB     *param // (C)
	head     *param // (V, C)

	// activations and their gradients
	x, dx         *tensor.Tensor // (B, T, C) input of the first block
	lnf, dlnf     *tensor.Tensor // (B, T, C)
	lnfMean       *tensor.Tensor // (B, T)
	lnfRstd       *tensor.Tensor // (B, T)
	logits, dlog  *tensor.Tensor // (B, T, V)
	probs, losses *tensor.Tensor // (B, T, V), (B, T)
	ids, targets  []int32
}

type param struct {
	name    string
	v, g    *tensor.Tensor
	noDecay bool
}

type block struct {
	ln1W, ln1B, qkvW, qkvB, projW, projB, ln2W, ln2B, fcW, fcB, fcprojW, fcprojB *param

	ln1, ln1Mean, ln1Rstd, qkv, q, k, v, att, y, atty, res1 *tensor.Tensor
	ln2, ln2Mean, ln2Rstd, fch, fchGelu, out                *tensor.Tensor
	// gradients of the activations
	dln1, dqkv, dq, dk, dv, dy, datty, dres1, dln2, dfch, dfchGelu, dout *tensor.Tensor
}

func newParam(name string, noDecay bool, shape ...int) *param {
	return &param{name: name, v: tensor.New(shape...), g: tensor.New(shape...), noDecay: noDecay}
}

func newGPT2(b, t, c, h, v, layers int, embed bool, r *rng.RNG) *gpt2 {
	m := &gpt2{B: b, T: t, C: c, H: h, V: v}
	d := c / h
	if embed {
		m.wte, m.wpe = newParam("wte", false, v, c), newParam("wpe", false, t, c)
		r.FillNormal(m.wte.v.Data, 0, 0.02)
		r.FillNormal(m.wpe.v.Data, 0, 0.02)
	}
	for range layers {
		bl := &block{
			ln1W: newParam("ln1_weight", true, c), ln1B: newParam("ln1_bias", true, c),
			qkvW: newParam("qkv_weight", false, 3*c, c), qkvB: newParam("qkv_bias", true, 3*c),
			projW: newParam("attproj_weight", false, c, c), projB: newParam("attproj_bias", true, c),
			ln2W: newParam("ln2_weight", true, c), ln2B: newParam("ln2_bias", true, c),
			fcW: newParam("fc_weight", false, 4*c, c), fcB: newParam("fc_bias", true, 4*c),
			fcprojW: newParam("fcproj_weight", false, c, 4*c), fcprojB: newParam("fcproj_bias", true, c),
		}
		for _, p := range []*param{bl.ln1W, bl.ln2W} {
			for i := range p.v.Data {
				p.v.Data[i] = 1
			}
		}
		for _, p := range []*param{bl.qkvW, bl.projW, bl.fcW, bl.fcprojW} {
			r.FillNormal(p.v.Data, 0, 0.02)
		}
		act := func(shape ...int) *tensor.Tensor { return tensor.New(shape...) }
		bl.ln1, bl.ln1Mean, bl.ln1Rstd = act(b, t, c), act(b, t), act(b, t)
		bl.qkv, bl.q, bl.k, bl.v = act(b, t, 3*c), act(b, h, t, d), act(b, h, t, d), act(b, h, t, d)
		bl.att, bl.y, bl.atty, bl.res1 = act(attention.CacheShape(b, h, t, t)...), act(b, h, t, d), act(b, t, c), act(b, t, c)
		bl.ln2, bl.ln2Mean, bl.ln2Rstd = act(b, t, c), act(b, t), act(b, t)
		bl.fch, bl.fchGelu, bl.out = act(b, t, 4*c), act(b, t, 4*c), act(b, t, c)
		bl.dln1, bl.dqkv, bl.dq, bl.dk, bl.dv = act(b, t, c), act(b, t, 3*c), act(b, h, t, d), act(b, h, t, d), act(b, h, t, d)
		bl.dy, bl.datty, bl.dres1, bl.dln2 = act(b, h, t, d), act(b, t, c), act(b, t, c), act(b, t, c)
		bl.dfch, bl.dfchGelu, bl.dout = act(b, t, 4*c), act(b, t, 4*c), act(b, t, c)
		m.blocks = append(m.blocks, bl)
	}
	m.lnfW, m.lnfB, m.head = newParam("lnf_weight", true, c), newParam("lnf_bias", true, c), newParam("lm_head_weight", false, v, c)
	for i := range m.lnfW.v.Data {
		m.lnfW.v.Data[i] = 1
	}
	r.FillNormal(m.head.v.Data, 0, 0.02)
	m.x, m.dx = tensor.New(b, t, c), tensor.New(b, t, c)
	m.lnf, m.dlnf, m.lnfMean, m.lnfRstd = tensor.New(b, t, c), tensor.New(b, t, c), tensor.New(b, t), tensor.New(b, t)
	m.logits, m.dlog, m.probs, m.losses = tensor.New(b, t, v), tensor.New(b, t, v), tensor.New(b, t, v), tensor.New(b, t)
	m.ids, m.targets = make([]int32, b*t), make([]int32, b*t)
	return m
}

func (m *gpt2) params() []*param {
	var ps []*param
	if m.wte != nil {
		ps = append(ps, m.wte, m.wpe)
	}
	for _, bl := range m.blocks {
		ps = append(ps, bl.ln1W, bl.ln1B, bl.qkvW, bl.qkvB, bl.projW, bl.projB, bl.ln2W, bl.ln2B, bl.fcW, bl.fcB, bl.fcprojW, bl.fcprojB)
	}
	return append(ps, m.lnfW, m.lnfB, m.head)
}

const eps = 1e-5

var causal = attention.Options{Causal: true}

// must panics on a kernel error: in this test model every shape is right
// by construction, so an error is a bug in the kernels under test.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// forward returns the mean loss over the non-ignored targets.
func (m *gpt2) forward() float32 {
	if m.wte != nil {
		must(nn.EmbeddingForward(m.x, m.ids, m.wte.v))
		must(nn.PositionForward(m.x, m.x, m.wpe.v))
	}
	in := m.x
	for _, bl := range m.blocks {
		must(nn.LayerNormForward(bl.ln1, bl.ln1Mean, bl.ln1Rstd, in, bl.ln1W.v, bl.ln1B.v, eps))
		must(nn.LinearForward(bl.qkv, bl.ln1, bl.qkvW.v, bl.qkvB.v))
		must(attention.SplitHeads(bl.q, bl.k, bl.v, bl.qkv))
		must(attention.FullForward(bl.y, bl.att, bl.q, bl.k, bl.v, nil, causal))
		must(attention.MergeHeads(bl.atty, bl.y))
		must(nn.LinearForward(bl.res1, bl.atty, bl.projW.v, bl.projB.v))
		must(nn.ResidualForward(bl.res1, bl.res1, in))
		must(nn.LayerNormForward(bl.ln2, bl.ln2Mean, bl.ln2Rstd, bl.res1, bl.ln2W.v, bl.ln2B.v, eps))
		must(nn.LinearForward(bl.fch, bl.ln2, bl.fcW.v, bl.fcB.v))
		must(nn.GELUForward(bl.fchGelu, bl.fch, nn.GELUTanh))
		must(nn.LinearForward(bl.out, bl.fchGelu, bl.fcprojW.v, bl.fcprojB.v))
		must(nn.ResidualForward(bl.out, bl.out, bl.res1))
		in = bl.out
	}
	must(nn.LayerNormForward(m.lnf, m.lnfMean, m.lnfRstd, in, m.lnfW.v, m.lnfB.v, eps))
	must(nn.LinearForward(m.logits, m.lnf, m.head.v, nil))
	loss, _, err := nn.CrossEntropyForward(m.losses, m.probs, m.logits, m.targets, -100)
	must(err)
	return loss
}

// backward accumulates every parameter gradient and dx for dloss = 1.
// Activation gradients are zeroed here; parameter gradients by the caller.
func (m *gpt2) backward() {
	m.dx.Zero()
	m.dlnf.Zero()
	m.dlog.Zero()
	must(nn.CrossEntropyBackward(m.dlog, m.probs, m.targets, -100, 1))
	must(nn.LinearBackward(m.dlnf, m.head.g, nil, m.dlog, m.lnf, m.head.v))
	last := m.blocks[len(m.blocks)-1]
	for _, bl := range m.blocks {
		for _, g := range []*tensor.Tensor{bl.dln1, bl.dqkv, bl.dq, bl.dk, bl.dv, bl.dy, bl.datty, bl.dres1, bl.dln2, bl.dfch, bl.dfchGelu, bl.dout} {
			g.Zero()
		}
	}
	must(nn.LayerNormBackward(last.dout, m.lnfW.g, m.lnfB.g, m.dlnf, last.out, m.lnfW.v, m.lnfMean, m.lnfRstd))
	for i := len(m.blocks) - 1; i >= 0; i-- {
		bl := m.blocks[i]
		in, din := m.x, m.dx
		if i > 0 {
			in, din = m.blocks[i-1].out, m.blocks[i-1].dout
		}
		// out = res1 + fcproj(gelu(fc(ln2(res1))))
		must(nn.ResidualBackward(bl.dres1, nil, bl.dout))
		must(nn.LinearBackward(bl.dfchGelu, bl.fcprojW.g, bl.fcprojB.g, bl.dout, bl.fchGelu, bl.fcprojW.v))
		must(nn.GELUBackward(bl.dfch, bl.fch, bl.dfchGelu, nn.GELUTanh))
		must(nn.LinearBackward(bl.dln2, bl.fcW.g, bl.fcB.g, bl.dfch, bl.ln2, bl.fcW.v))
		must(nn.LayerNormBackward(bl.dres1, bl.ln2W.g, bl.ln2B.g, bl.dln2, bl.res1, bl.ln2W.v, bl.ln2Mean, bl.ln2Rstd))
		// res1 = in + proj(attention(ln1(in)))
		must(nn.ResidualBackward(din, nil, bl.dres1))
		must(nn.LinearBackward(bl.datty, bl.projW.g, bl.projB.g, bl.dres1, bl.atty, bl.projW.v))
		must(attention.MergeHeadsBackward(bl.dy, bl.datty))
		must(attention.FullBackward(bl.dq, bl.dk, bl.dv, bl.dy, bl.q, bl.k, bl.v, bl.att, nil, causal))
		must(attention.SplitHeadsBackward(bl.dqkv, bl.dq, bl.dk, bl.dv))
		must(nn.LinearBackward(bl.dln1, bl.qkvW.g, bl.qkvB.g, bl.dqkv, bl.ln1, bl.qkvW.v))
		must(nn.LayerNormBackward(din, bl.ln1W.g, bl.ln1B.g, bl.dln1, in, bl.ln1W.v, bl.ln1Mean, bl.ln1Rstd))
	}
	if m.wte != nil {
		must(nn.PositionBackward(nil, m.wpe.g, m.dx))
		must(nn.EmbeddingBackward(m.wte.g, m.dx, m.ids))
	}
}

// optimiser builds AdamW over every parameter, without decay for biases
// and norm weights.
func (m *gpt2) optimiser() (*optim.AdamW, []optim.Param) {
	var ps []optim.Param
	for _, p := range m.params() {
		ps = append(ps, optim.Param{Name: p.name, Value: p.v, Grad: p.g, NoDecay: p.noDecay})
	}
	cfg := optim.DefaultAdamW()
	cfg.WeightDecay = 0.1
	opt, err := optim.NewAdamW(ps, cfg)
	must(err)
	return opt, ps
}
