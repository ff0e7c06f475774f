package optim

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/golden"
	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Reference values: PyTorch 1.13 (torch.optim.SGD, torch.optim.AdamW,
// torch.nn.utils.clip_grad_norm_), written by kernels/testdata/gen_golden.py
// (golden_training.py). Five steps with fixed gradients; one gradient
// element is 0 (only decay moves it) and one is 1e-9 (far below eps's
// scale in AdamW).
//
// The tolerance allows a few float32 roundings per step: PyTorch's
// vectorised kernels fuse some multiply-adds and compute the clipping
// coefficient in float32, while this package rounds every product
// separately and sums the norm in float64.
var goldenTol = kerneltest.Tol{Abs: 1e-6, Rel: 1e-5}

// goldenParam returns the golden case's parameter name, with a zeroed
// gradient of the same shape.
func goldenParam(c *golden.Case, name string) Param {
	v := c.T(name)
	return Param{Name: name, Value: v, Grad: tensor.New(v.Shape...)}
}

// replay feeds the recorded gradients to opt step by step and compares the
// parameters after each step with PyTorch's.
func replay(t *testing.T, c *golden.Case, opt Optimizer, lr float32) {
	t.Helper()
	steps := int(c.Attr("steps"))
	for s := range steps {
		for _, p := range opt.Params() {
			n := len(p.Value.Data)
			copy(p.Grad.Data, c.T(p.Name + "_grads").Data[s*n:(s+1)*n])
		}
		if err := opt.Step(lr); err != nil {
			t.Fatal(err)
		}
		for _, p := range opt.Params() {
			n := len(p.Value.Data)
			want := c.T(p.Name + "_after").Data[s*n : (s+1)*n]
			kerneltest.Close(t, fmt.Sprintf("%s after step %d", p.Name, s+1), p.Value.Data, want, goldenTol)
		}
	}
}

func TestSGDGolden(t *testing.T) {
	for _, name := range []string{"sgd_momentum", "sgd_nesterov"} {
		t.Run(name, func(t *testing.T) {
			c := golden.Load(t, name)
			cfg := SGDConfig{Momentum: c.Attr("momentum"), Nesterov: c.Attr("nesterov") == 1, WeightDecay: c.Attr("weight_decay")}
			opt, err := NewSGD([]Param{goldenParam(c, "weight")}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			replay(t, c, opt, float32(c.Attr("lr")))
			kerneltest.Close(t, "momentum buffer", opt.MomentumBuffer(0), c.T("weight_momentum_buffer").Data, goldenTol)
		})
	}
}

func TestAdamWGolden(t *testing.T) {
	c := golden.Load(t, "adamw")
	if c.Attr("bias_weight_decay") != 0 {
		t.Fatal("the golden case should exempt the bias from weight decay")
	}
	bias := goldenParam(c, "bias")
	bias.NoDecay = true
	cfg := AdamWConfig{Beta1: c.Attr("beta1"), Beta2: c.Attr("beta2"), Eps: c.Attr("eps"), WeightDecay: c.Attr("weight_decay")}
	opt, err := NewAdamW([]Param{goldenParam(c, "weight"), bias}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	replay(t, c, opt, float32(c.Attr("lr")))
	for i, p := range opt.Params() {
		m, v := opt.Moments(i)
		kerneltest.Close(t, p.Name+" exp_avg", m, c.T(p.Name+"_exp_avg").Data, goldenTol)
		// v holds squares of O(1) gradients: compare relatively.
		kerneltest.Close(t, p.Name+" exp_avg_sq", v, c.T(p.Name+"_exp_avg_sq").Data, kerneltest.Tol{Abs: 1e-9, Rel: 1e-5})
	}
}

func TestClipGradNormGolden(t *testing.T) {
	for _, name := range []string{"clip_grad_norm", "clip_grad_norm_noclip"} {
		t.Run(name, func(t *testing.T) {
			c := golden.Load(t, name)
			a, b := c.T("grad_a"), c.T("grad_b")
			ps := []Param{
				{Name: "a", Value: tensor.New(a.Shape...), Grad: a},
				{Name: "b", Value: tensor.New(b.Shape...), Grad: b},
			}
			norm := ClipGradNorm(ps, float32(c.Attr("max_norm")))
			kerneltest.Close(t, "norm", []float32{norm}, c.T("norm").Data, goldenTol)
			kerneltest.Close(t, "clipped a", a.Data, c.T("clipped_a").Data, goldenTol)
			kerneltest.Close(t, "clipped b", b.Data, c.T("clipped_b").Data, goldenTol)
		})
	}
}
