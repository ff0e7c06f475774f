package optim

import (
	"math"

	"github.com/attnlab/attnlab/kernels/parallel"
)

// AdamWConfig holds AdamW's hyper-parameters. Start from DefaultAdamW: the
// zero value is invalid (Eps must be positive).
type AdamWConfig struct {
	Beta1       float64 // β₁ in [0, 1), decay of the first moment; PyTorch default 0.9
	Beta2       float64 // β₂ in [0, 1), decay of the second moment; PyTorch default 0.999 (nanoGPT uses 0.95)
	Eps         float64 // ε > 0, added to the denominator; PyTorch default 1e-8
	WeightDecay float64 // λ >= 0, decoupled weight decay; PyTorch default 1e-2 (nanoGPT uses 0.1)
}

// DefaultAdamW returns PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8,
// λ = 1e-2.
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2}
}

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter,
// "Decoupled Weight Decay Regularization", ICLR 2019), matching
// torch.optim.AdamW (PyTorch 1.13, amsgrad and maximize false). At step
// t = 1, 2, ..., with learning rate lr, for each element:
//
//	p = p·(1 - lr·λ)                          (unless the parameter opts out)
//	m = β₁·m + (1-β₁)·g
//	v = β₂·v + (1-β₂)·g·g
//	p = p - (lr/(1-β₁ᵗ)) · m / (√v/√(1-β₂ᵗ) + ε)
//
// As in PyTorch, ε is added after dividing √v by the square root of the
// bias correction, not to v̂ itself, and the decay uses the step's lr.
type AdamW struct {
	cfg    AdamWConfig
	params []Param
	m, v   [][]float32 // first and second moments, one per parameter
	steps  int
	job    adamJob
}

// adamJob is one Step's update, cut into parts of at most adamChunk
// elements of one parameter; elements are independent, so the parts run
// on the kernel pool and the result does not depend on the thread count.
type adamJob struct {
	o      *AdamW
	chunks []adamChunkRef // built once: the parameters do not change
	k      adamConsts     // this step's scalars, with the decay factor
}

type adamChunkRef struct{ param, lo, hi int }

const adamChunk = 16 << 10

// NewAdamW validates cfg and params and allocates the moment buffers.
func NewAdamW(params []Param, cfg AdamWConfig) (*AdamW, error) {
	const op = "optim.NewAdamW"
	if err := checkParams(op, params); err != nil {
		return nil, err
	}
	if err := checkRange(op, "Beta1", cfg.Beta1, 0, 1, "PyTorch default 0.9"); err != nil {
		return nil, err
	}
	if err := checkRange(op, "Beta2", cfg.Beta2, 0, 1, "PyTorch default 0.999"); err != nil {
		return nil, err
	}
	if !(cfg.Eps > 0) || math.IsInf(cfg.Eps, 1) {
		return nil, &ConfigError{Op: op, Field: "Eps", Value: cfg.Eps, Want: "must be finite and > 0 (PyTorch default 1e-8)"}
	}
	if err := checkRange(op, "WeightDecay", cfg.WeightDecay, 0, math.Inf(1), "PyTorch default 0.01"); err != nil {
		return nil, err
	}
	return &AdamW{cfg: cfg, params: append([]Param(nil), params...), m: slab(params), v: slab(params)}, nil
}

// Params returns the parameters the optimiser updates.
func (o *AdamW) Params() []Param { return o.params }

// Steps returns how many updates have been applied (t after the last Step).
func (o *AdamW) Steps() int { return o.steps }

// Config returns the hyper-parameters.
func (o *AdamW) Config() AdamWConfig { return o.cfg }

// Moments returns parameter i's first and second moment buffers (PyTorch's
// exp_avg and exp_avg_sq), for checkpoints and tests. They alias the
// optimiser's state.
func (o *AdamW) Moments(i int) (m, v []float32) { return o.m[i], o.v[i] }

// Step applies one AdamW update with learning rate lr.
func (o *AdamW) Step(lr float32) error {
	if err := checkLR("optim.AdamW.Step", lr); err != nil {
		return err
	}
	o.steps++
	// Scalars are computed in float64 and rounded once, where PyTorch's
	// Python code computes them and its kernels cast them to float32.
	t := float64(o.steps)
	lr64 := float64(lr)
	bc1 := 1 - math.Pow(o.cfg.Beta1, t)
	bc2 := 1 - math.Pow(o.cfg.Beta2, t)
	var (
		decay   = float32(1 - lr64*o.cfg.WeightDecay)
		b1      = float32(o.cfg.Beta1)
		omb1    = float32(1 - o.cfg.Beta1)
		b2      = float32(o.cfg.Beta2)
		omb2    = float32(1 - o.cfg.Beta2)
		bc2sqrt = float32(math.Sqrt(bc2))
		eps     = float32(o.cfg.Eps)
		negStep = float32(-(lr64 / bc1))
	)
	j := &o.job
	j.o = o
	if j.chunks == nil {
		for i, p := range o.params {
			for lo := 0; lo < len(p.Value.Data); lo += adamChunk {
				j.chunks = append(j.chunks, adamChunkRef{i, lo, min(len(p.Value.Data), lo+adamChunk)})
			}
		}
	}
	j.k = adamConsts{decay, b1, omb1, b2, omb2, bc2sqrt, eps, negStep}
	parallel.Do(len(j.chunks), j)
	return nil
}

func (j *adamJob) Run(part int) {
	ch := j.chunks[part]
	o, p := j.o, j.o.params[ch.param]
	w := p.Value.Data[ch.lo:ch.hi]
	g, m, v := p.Grad.Data[ch.lo:ch.hi], o.m[ch.param][ch.lo:ch.hi], o.v[ch.param][ch.lo:ch.hi]
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	// No decay is a factor of 1 (x·1 = x exactly). The vector loop
	// (AVX-512, adamw_amd64.s) does the operations below in their order.
	k := j.k
	if p.NoDecay || o.cfg.WeightDecay == 0 {
		k[0] = 1
	}
	n := adamVec(w, g, m, v, &k)
	w, g, m, v = w[n:], g[n:], m[n:], v[n:]
	decay, b1, omb1, b2, omb2, bc2sqrt, eps, negStep := k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]
	// Operation order follows PyTorch's kernels: mul_ then add_
	// (alpha), mul_ then addcmul_ ((value·g)·g), sqrt, divide, add ε,
	// addcdiv_ ((value·m)/denom). float32(...) conversions forbid FMA.
	for i := range w {
		x := w[i] * decay
		gi := g[i]
		mi := float32(m[i]*b1) + float32(omb1*gi)
		vi := float32(v[i]*b2) + float32(float32(omb2*gi)*gi)
		denom := float32(sqrt32(vi)/bc2sqrt) + eps
		m[i], v[i] = mi, vi
		w[i] = x + float32(negStep*mi)/denom
	}
}

// adamConsts are one step's scalars for the vector loop: decay (1 for a
// parameter without decay), b1, 1-b1, b2, 1-b2, sqrt(bias correction 2),
// eps and -lr/(bias correction 1).
type adamConsts [8]float32

// sqrt32 is the correctly rounded float32 square root (a float64 square
// root rounded to float32 is correctly rounded, since 53 >= 2·24+2).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
