package transformer

import (
	"math"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// build allocates every parameter, gradient and activation of the shape.
// The order of m.params is the order of GradNormSq's sum and of the
// optimiser: wte, then each stack (encoder first: wpe, blocks, ln_f), then
// the head. A decoder-only model's parameters are named and ordered as
// nanoGPT's.
func (m *model) build() {
	hp := m.hp
	// Decay follows minGPT's configure_optimizers: matrices decay; biases,
	// norm gains and the position tables do not (see doc.go).
	m.wte = m.newParam("wte.weight", false, hp.vocab, hp.dModel)
	if hp.rope {
		t := max(hp.seqLen, hp.targetLen)
		m.ropeCos, m.ropeSin = tensor.New(t, hp.headDim/2), tensor.New(t, hp.headDim/2)
		if err := attention.RotaryTables(m.ropeCos, m.ropeSin, 10000); err != nil {
			panic(err) // head_dim is checked even in parse
		}
	}
	switch hp.shape {
	case shapeDecoder:
		m.dec = m.newStack(stackOpts{maxT: hp.seqLen, layers: hp.layers, layerStride: 1})
	case shapeEncoder:
		m.enc = m.newStack(stackOpts{maxT: hp.seqLen, layers: hp.layers, layerStride: 1})
	case shapeEncDec:
		le, ld := hp.layers, hp.decLayers
		m.enc = m.newStack(stackOpts{label: "encoder ", prefix: "enc.", maxT: hp.seqLen, layers: le, layerStride: 1})
		// Decoder block j: self-attention layer le+2j, cross-attention
		// le+2j+1; dropout streams after the encoder's.
		m.dec = m.newStack(stackOpts{label: "decoder ", prefix: "dec.", maxT: hp.targetLen, layers: ld,
			firstLayer: le, layerStride: 2, firstBlock: le, crossBlocks: le + ld, cross: m.enc})
	}
	top := m.top()
	if hp.classes > 0 {
		m.newClassifier(top)
		return
	}
	m.head = m.wte
	if !hp.tied {
		m.head = m.newParam("lm_head.weight", false, hp.vocab, hp.dModel)
	}
	m.logits = m.act(top, 1, hp.maxBatch, top.maxT, hp.vocab)
}

// initWeights is GPT-2's initialisation as nanoGPT writes it: weights and
// embeddings normal(0, init_std), the residual projections of every block
// normal(0, init_std/√n) with n the residual branches of the stack (2L in
// a GPT; 3Ld in a decoder with cross-attention; GPT-2 paper §2.3), biases
// 0, norm gains 1. Each tensor draws from its own stream, split from the
// seed by name, so one tensor's values do not depend on the others (tied
// or untied, the shared tensors start equal).
func (m *model) initWeights(root *rng.RNG) {
	std := m.hp.initStd
	normal := func(p *param, s float32) { root.SplitName("init/"+p.name).FillNormal(p.v.Data, 0, s) }
	ones := func(p *param) {
		for i := range p.v.Data {
			p.v.Data[i] = 1
		}
	}
	normal(m.wte, std)
	for _, s := range []*stack{m.enc, m.dec} {
		if s == nil {
			continue
		}
		if s.wpe != nil && s.wpe.g != nil {
			normal(s.wpe, std)
		}
		branches := 2 * len(s.blocks)
		if len(s.blocks) > 0 && s.blocks[0].cross != nil {
			branches = 3 * len(s.blocks)
		}
		resid := float32(float64(std) / math.Sqrt(float64(branches)))
		for _, bl := range s.blocks {
			ones(bl.ln1W)
			ones(bl.ln2W)
			normal(bl.qkvW, std)
			normal(bl.projW, resid)
			normal(bl.fcW, std)
			normal(bl.fcpW, resid)
			if cr := bl.cross; cr != nil {
				ones(cr.lnW)
				normal(cr.qW, std)
				normal(cr.kW, std)
				normal(cr.vW, std)
				normal(cr.oW, resid)
			}
		}
		ones(s.lnfW)
	}
	if m.clsW != nil {
		normal(m.clsW, std)
	} else if !m.hp.tied {
		normal(m.head, std)
	}
}
