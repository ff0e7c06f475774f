package linformer

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// param is one projection, E or F, (P, k, n), and its gradient.
type param struct {
	name string
	v, g *tensor.Tensor
}

// buildParams creates the projections sharing asks for (Linformer §4,
// "Parameter sharing") and points every layer at its own. n is the
// longest key sequence of the layers that share a projection; each
// projection is drawn from N(0, std²), std = initStd or 1/√n (which keeps
// E·K at K's scale), from a stream named "linformer" split by the
// parameter's index, so the spec's Seed fixes them.
func (c *component) buildParams(spec sdk.AttentionSpec, sharing string, initStd float64) {
	seeds := rng.New(spec.Seed).SplitName(name)
	newParam := func(pname string, p, n int) *param {
		v := tensor.New(p, c.k, n)
		std := initStd
		if std == 0 {
			std = 1 / math.Sqrt(float64(n))
		}
		seeds.Split(uint64(len(c.params))).FillNormal(v.Data, 0, float32(std))
		x := &param{name: pname, v: v, g: tensor.New(p, c.k, n)}
		c.params = append(c.params, x)
		return x
	}
	c.lin = make([]*linLayer, spec.Layers)
	var shared *param
	if sharing == shareLayerwise {
		n := 0
		for i := range spec.Layers {
			n = max(n, spec.Layer(i).MaxK)
		}
		shared = newParam("E", 1, n)
	}
	for i := range c.lin {
		n := spec.Layer(i).MaxK
		l := &linLayer{}
		switch sharing {
		case shareLayerwise:
			l.e, l.f = shared, shared
		case shareKV:
			l.e = newParam(fmt.Sprintf("layer.%d.E", i), 1, n)
			l.f = l.e
		case shareHeadwise:
			l.e = newParam(fmt.Sprintf("layer.%d.E", i), 1, n)
			l.f = newParam(fmt.Sprintf("layer.%d.F", i), 1, n)
		default: // shareNone: one projection per key/value head
			l.e = newParam(fmt.Sprintf("layer.%d.E", i), spec.KVHeads, n)
			l.f = newParam(fmt.Sprintf("layer.%d.F", i), spec.KVHeads, n)
		}
		c.lin[i] = l
	}
}

// newOptimizer builds the optimiser of the trial's train section over the
// projections, as the transformer architecture does for its own
// parameters (plugins/arch/transformer/step.go).
func newOptimizer(o sdk.Optimizer, params []*param) (optim.Optimizer, error) {
	ps := make([]optim.Param, len(params))
	for i, p := range params {
		ps[i] = optim.Param{Name: p.name, Value: p.v, Grad: p.g}
	}
	switch o.Name {
	case "adamw":
		return optim.NewAdamW(ps, optim.AdamWConfig{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay})
	case "sgd":
		return optim.NewSGD(ps, optim.SGDConfig{Momentum: o.Momentum, WeightDecay: o.WeightDecay})
	}
	return nil, fmt.Errorf("optimizer %q is not supported: use \"adamw\" or \"sgd\"", o.Name)
}

// GradNormSq returns Σ g² over E's and F's gradients: each parameter's
// optim.SumSquares (float64), added in parameter order (so it does not
// depend on threads).
func (c *component) GradNormSq() (float64, error) {
	if c.opt == nil {
		return 0, c.set.Errorf("GradNormSq called before a successful Init")
	}
	var s float64
	for _, p := range c.params {
		s += optim.SumSquares(p.g.Data)
	}
	return s, nil
}

// Step multiplies the gradients by args.GradScale (the harness's global
// norm clipping), applies one optimiser step with args.LR and zeroes the
// gradients. On error nothing has changed.
func (c *component) Step(args sdk.StepArgs) error {
	if c.opt == nil {
		return c.set.Errorf("Step called before a successful Init")
	}
	s := args.GradScale
	if !(s > 0) || math.IsInf(float64(s), 0) {
		return c.set.Errorf("Step %d: GradScale = %v: want a finite factor > 0 (1 means no clipping)", args.Step, s)
	}
	if !(args.LR >= 0) || math.IsInf(float64(args.LR), 0) {
		return c.set.Errorf("Step %d: LR = %v: want a finite learning rate >= 0", args.Step, args.LR)
	}
	if s != 1 {
		for _, p := range c.params {
			for i := range p.g.Data {
				p.g.Data[i] *= s
			}
		}
	}
	if err := c.opt.Step(args.LR); err != nil {
		return c.set.Errorf("Step %d: %w", args.Step, err)
	}
	for _, p := range c.params {
		p.g.Zero()
	}
	return nil
}
