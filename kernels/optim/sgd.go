package optim

import "math"

// SGDConfig holds SGD's hyper-parameters. The zero value is plain SGD.
type SGDConfig struct {
	Momentum    float64 // μ in [0, 1); 0 disables the momentum buffer. nanoGPT-era default 0.9
	Nesterov    bool    // Nesterov momentum (Sutskever et al. 2013, as PyTorch formulates it); needs Momentum > 0
	WeightDecay float64 // λ >= 0, an L2 penalty added to the gradient (coupled, unlike AdamW); default 0
}

// SGD is stochastic gradient descent with momentum, matching
// torch.optim.SGD (PyTorch 1.13, dampening 0, maximize false). For each
// element, with learning rate lr:
//
//	g = grad + λ·p            (if λ != 0 and the parameter does not opt out)
//	b = g                     (first step)
//	b = μ·b + g               (later steps)
//	g = g + μ·b  if nesterov, else  g = b     (if μ != 0)
//	p = p - lr·g
//
// Dampening is not supported: with dampening 0 PyTorch's first-step
// b = g is the same as starting from b = 0.
type SGD struct {
	cfg    SGDConfig
	params []Param
	buf    [][]float32 // momentum buffers, one per parameter, same length as its Value; nil without momentum
	steps  int
}

// NewSGD validates cfg and params and allocates the momentum buffers.
func NewSGD(params []Param, cfg SGDConfig) (*SGD, error) {
	const op = "optim.NewSGD"
	if err := checkParams(op, params); err != nil {
		return nil, err
	}
	if err := checkRange(op, "Momentum", cfg.Momentum, 0, 1, "use 0 for plain SGD, typically 0.9"); err != nil {
		return nil, err
	}
	if err := checkRange(op, "WeightDecay", cfg.WeightDecay, 0, math.Inf(1), "PyTorch default 0"); err != nil {
		return nil, err
	}
	if cfg.Nesterov && cfg.Momentum == 0 {
		return nil, &ConfigError{Op: op, Field: "Momentum", Value: cfg.Momentum, Want: "Nesterov needs Momentum > 0"}
	}
	o := &SGD{cfg: cfg, params: append([]Param(nil), params...)}
	if cfg.Momentum != 0 {
		o.buf = slab(params)
	}
	return o, nil
}

// Params returns the parameters the optimiser updates.
func (o *SGD) Params() []Param { return o.params }

// Steps returns how many updates have been applied.
func (o *SGD) Steps() int { return o.steps }

// Config returns the hyper-parameters.
func (o *SGD) Config() SGDConfig { return o.cfg }

// MomentumBuffer returns parameter i's momentum buffer (nil without
// momentum), for checkpoints and tests. It aliases the optimiser's state.
func (o *SGD) MomentumBuffer(i int) []float32 {
	if o.buf == nil {
		return nil
	}
	return o.buf[i]
}

// Step applies one SGD update with learning rate lr.
func (o *SGD) Step(lr float32) error {
	if err := checkLR("optim.SGD.Step", lr); err != nil {
		return err
	}
	first := o.steps == 0
	o.steps++
	negLR := -lr
	mu := float32(o.cfg.Momentum)
	for i, p := range o.params {
		w, g := p.Value.Data, p.Grad.Data
		g = g[:len(w)]
		wd := float32(o.cfg.WeightDecay)
		if p.NoDecay {
			wd = 0
		}
		var b []float32
		if o.buf != nil {
			b = o.buf[i][:len(w)]
		}
		// The float32(...) conversions keep each product rounded on its
		// own: no FMA, the same bits on every platform.
		for j := range w {
			d := g[j]
			if wd != 0 {
				d += float32(wd * w[j])
			}
			if b != nil {
				if first {
					b[j] = d
				} else {
					b[j] = float32(mu*b[j]) + d
				}
				if o.cfg.Nesterov {
					d += float32(mu * b[j])
				} else {
					d = b[j]
				}
			}
			w[j] += float32(negLR * d)
		}
	}
	return nil
}

// slab allocates one zeroed float32 buffer per parameter, all carved from
// one allocation so the optimiser state is contiguous.
func slab(params []Param) [][]float32 {
	n := 0
	for _, p := range params {
		n += len(p.Value.Data)
	}
	all := make([]float32, n)
	out := make([][]float32, len(params))
	for i, p := range params {
		k := len(p.Value.Data)
		out[i], all = all[:k:k], all[k:]
	}
	return out
}
