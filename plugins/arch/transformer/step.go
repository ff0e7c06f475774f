package transformer

import (
	"math"

	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// newOptimizer builds the optimiser Init was given over params. Each
// param's noDecay flag exempts it from weight decay (AdamW's decoupled
// decay, SGD's L2 term alike).
func newOptimizer(o sdk.Optimizer, params []*param) (optim.Optimizer, error) {
	ps := make([]optim.Param, len(params))
	for i, p := range params {
		ps[i] = optim.Param{Name: p.name, Value: p.v, Grad: p.g, NoDecay: p.noDecay}
	}
	var (
		opt optim.Optimizer
		err error
	)
	switch o.Name {
	case "adamw":
		opt, err = optim.NewAdamW(ps, optim.AdamWConfig{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay})
	case "sgd":
		opt, err = optim.NewSGD(ps, optim.SGDConfig{Momentum: o.Momentum, WeightDecay: o.WeightDecay})
	default:
		return nil, errorf("optimizer %q is not supported: use \"adamw\" or \"sgd\"", o.Name)
	}
	if err != nil {
		return nil, errorf("optimizer %q: %w", o.Name, err)
	}
	return opt, nil
}

// GradNormSq returns Σ g² over every parameter gradient: each parameter's
// optim.SumSquares (float64), added in parameter order (so it does not
// depend on threads).
func (m *model) GradNormSq() (float64, error) {
	if m.opt == nil {
		return 0, errorf("GradNormSq called before a successful Init")
	}
	var s float64
	for _, p := range m.params {
		s += optim.SumSquares(p.g.Data)
	}
	return s, nil
}

// Step multiplies the gradients by args.GradScale (the harness's global
// norm clipping), applies one optimiser step with args.LR, and zeroes the
// gradients. On error nothing has changed.
func (m *model) Step(args sdk.StepArgs) error {
	if m.opt == nil {
		return errorf("Step called before a successful Init")
	}
	s := args.GradScale
	if !(s > 0) || math.IsInf(float64(s), 0) {
		return errorf("Step %d: GradScale = %v: want a finite factor > 0 (1 means no clipping)", args.Step, s)
	}
	if !(args.LR >= 0) || math.IsInf(float64(args.LR), 0) {
		return errorf("Step %d: LR = %v: want a finite learning rate >= 0", args.Step, args.LR)
	}
	m.encReady = false // the parameters change
	if s != 1 {
		for _, p := range m.params {
			g := p.g.Data
			for i := range g {
				g[i] *= s
			}
		}
	}
	if err := m.opt.Step(args.LR); err != nil {
		return errorf("Step %d: %w", args.Step, err)
	}
	for _, p := range m.params {
		p.g.Zero()
	}
	return nil
}
