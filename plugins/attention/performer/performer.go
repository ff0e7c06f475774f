package performer

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/internal/layers"
	"github.com/attnlab/attnlab/plugins/sdk"
)

const (
	name    = "performer"
	version = "1.0.0"
)

// New returns the Performer attention component. Call Init before
// Forward.
func New() sdk.Attention { return &component{set: layers.Set{Name: name}} }

type component struct {
	set    layers.Set
	w      []*tensor.Tensor // per layer, (m, D): the random features
	opts   []attention.Options
	seeds  *rng.RNG // the features' stream, split by layer and draw
	redraw int      // steps between redraws; 0 = never
	draw   int      // the current draw: Step/redraw
}

func (c *component) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindAttention,
		Name:    name,
		Version: version,
		Doc:     "FAVOR+ attention with positive orthogonal random features (Performer, Choromanski et al. 2021, §2.2-2.4, §2.6): O(T·m·D)",
		Params: []sdk.Param{
			{Name: "features", Type: sdk.Int, Default: int64(256), Min: sdk.Bound(1),
				Doc: "m: random features per layer; the softmax estimate sharpens as m grows"},
			{Name: "redraw", Type: sdk.Int, Default: int64(0), Min: sdk.Bound(0),
				Doc: "draw new features every this many optimiser steps, from a stream keyed by the step (0 = never)"},
			{Name: "scale", Type: sdk.Float, Default: 0.0, Min: sdk.Bound(0),
				Doc: "the softmax temperature of Q·Kᵀ (inputs scaled by its square root); 0 means 1/sqrt(head_dim)"},
		},
		// Not stateless, although nothing is trained: Step redraws the
		// features, so the harness must call it.
		Capabilities: []string{"causal", "padding_mask", "kv_heads"},
	}
}

func (c *component) Init(cfg sdk.Config, spec sdk.AttentionSpec) error {
	c.set.Layers = nil
	cfg, err := c.Describe().Resolve(cfg)
	if err != nil {
		return err
	}
	scale, err := c.set.Scale(cfg)
	if err != nil {
		return err
	}
	if err := c.set.CheckSpec(spec); err != nil {
		return err
	}
	// Every layer kind works: causal through prefix sums (§2.6), and
	// cross-attention with Tq != Tk.
	m := cfg.Int("features")
	c.redraw, c.draw = cfg.Int("redraw"), 0
	c.seeds = rng.New(spec.Seed).SplitName(name)
	c.w = make([]*tensor.Tensor, spec.Layers)
	c.opts = make([]attention.Options, spec.Layers)
	for i := range spec.Layers {
		c.w[i] = tensor.New(m, spec.HeadDim)
		c.opts[i] = attention.Options{Causal: spec.Layer(i).Causal, Scale: scale}
	}
	if err := c.drawFeatures(); err != nil {
		return err
	}
	c.set.Build(spec)
	return nil
}

// drawFeatures fills every layer's features for the current draw: layer
// i's come from the stream split by i and then by the draw, so a run's
// features depend only on the seed and the step, never on how often the
// component was restarted.
func (c *component) drawFeatures() error {
	for i, w := range c.w {
		if err := attention.PerformerFeatures(w, c.seeds.Split(uint64(i)).Split(uint64(c.draw)).Uint64()); err != nil {
			return c.set.Errorf("drawing the features of layer %d: %w", i, err)
		}
	}
	return nil
}

// Forward computes FAVOR+ attention for layer i with its current features.
func (c *component) Forward(i int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	l, out, err := c.set.Begin(i, q, k, v, keyMask)
	if err != nil {
		return nil, err
	}
	if err := attention.PerformerForward(out, q, k, v, c.w[i], l.KeyMask, c.opts[i]); err != nil {
		return nil, c.set.Errorf("Forward of layer %d: %w", i, err)
	}
	l.Keep()
	return out, nil
}

// Backward recomputes the features of q and k; it reads the output
// Forward returned, which callers leave unchanged. The features stay
// fixed between a Forward and its Backward: only Step redraws them.
func (c *component) Backward(i int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	l, dq, dk, dv, err := c.set.BeginBackward(i, dout)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := attention.PerformerBackward(dq, dk, dv, dout, l.Q, l.K, l.V, c.w[i], l.Out.Tensor(), l.KeyMask, c.opts[i]); err != nil {
		return nil, nil, nil, c.set.Errorf("Backward of layer %d: %w (were q, k or v changed since its Forward?)", i, err)
	}
	return dq, dk, dv, nil
}

// GradNormSq is 0: the features are random, not trained.
func (c *component) GradNormSq() (float64, error) { return 0, nil }

// Step redraws the features when optimiser step args.Step completes a
// redraw interval: the next step, args.Step+1, uses draw
// (args.Step+1)/redraw.
func (c *component) Step(args sdk.StepArgs) error {
	if c.set.Layers == nil {
		return c.set.Errorf("Step called before a successful Init")
	}
	if c.redraw == 0 || args.Step < 0 {
		return nil
	}
	if d := (args.Step + 1) / c.redraw; d != c.draw {
		c.draw = d
		return c.drawFeatures()
	}
	return nil
}
