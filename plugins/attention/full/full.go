package full

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/internal/layers"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// version 1.1.1: where the head dim is the micro-kernel's panel width (32
// with AVX-512), dQ accumulates each product straight into its rows,
// which moves its last bits where a query block sees more keys than one
// K block of the micro-kernel (384 with AVX-512).
const (
	name    = "full"
	version = "1.1.1"
)

// New returns the full softmax attention component. Call Init before
// Forward.
func New() sdk.Attention { return &component{set: layers.Set{Name: name}} }

// component keeps, beside the bookkeeping every variant shares (layers.Set:
// outputs, gradients, mask copies, what Backward needs from Forward), each
// layer's probability cache and kernel options.
type component struct {
	set  layers.Set
	att  []layers.View       // per layer, CacheShape(B, H, Tq, Tk): probabilities for the backward
	opts []attention.Options // per layer: causal flag and scale
}

func (c *component) Describe() sdk.Description {
	return sdk.Description{
		Kind:         sdk.KindAttention,
		Name:         name,
		Version:      version,
		Doc:          "exact softmax attention (Vaswani et al. 2017): O(T²) time and memory, the baseline",
		Params:       []sdk.Param{layers.ScaleParam()},
		Capabilities: []string{"causal", "padding_mask", "kv_heads", sdk.Stateless},
	}
}

func (c *component) Init(cfg sdk.Config, spec sdk.AttentionSpec) error {
	c.set.Layers = nil
	// Resolve fills in defaults, so a partial (or nil) config works too.
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
	c.att = make([]layers.View, spec.Layers)
	c.opts = make([]attention.Options, spec.Layers)
	for i := range spec.Layers {
		ls := spec.Layer(i)
		c.att[i] = layers.NewView(attention.CacheShape(spec.Batch, spec.Heads, ls.MaxQ, ls.MaxK)...)
		c.opts[i] = attention.Options{Causal: ls.Causal, Scale: scale}
	}
	c.set.Build(spec)
	return nil
}

// Forward returns softmax(scale·q·kᵀ + mask)·v for layer i.
func (c *component) Forward(i int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	l, out, err := c.set.Begin(i, q, k, v, keyMask)
	if err != nil {
		return nil, err
	}
	att := c.att[i].Resize(attention.CacheShape(l.B, c.set.Spec.Heads, l.Tq, l.Tk)...)
	forward := attention.FullForward
	if c.set.Spec.KVHeads < c.set.Spec.Heads {
		// GQA/MQA: query head h reads key/value head h/(H/KVH) (Ainslie
		// et al. 2023, §2), through k and v repeated in a kernel scratch.
		forward = attention.FullGroupedForward
	}
	if err := forward(out, att, q, k, v, l.KeyMask, c.opts[i]); err != nil {
		return nil, c.set.Errorf("Forward of layer %d: %w", i, err)
	}
	l.Keep()
	return out, nil
}

// Backward returns the gradients of q, k and v of the last Forward of
// layer i given dout, the gradient of its output.
func (c *component) Backward(i int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	var l *layers.Layer
	backward := attention.FullBackwardTo // each head clears its own gradients
	if c.set.Spec.KVHeads < c.set.Spec.Heads {
		backward = attention.FullGroupedBackward // dk, dv summed over each group, into zeroed gradients
		l, dq, dk, dv, err = c.set.BeginBackward(i, dout)
	} else {
		l, dq, dk, dv, err = c.set.BeginBackwardTo(i, dout)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	att := c.att[i].Tensor() // as the Forward left it
	if err := backward(dq, dk, dv, dout, l.Q, l.K, l.V, att, l.KeyMask, c.opts[i]); err != nil {
		return nil, nil, nil, c.set.Errorf("Backward of layer %d: %w (were q, k or v changed since its Forward?)", i, err)
	}
	return dq, dk, dv, nil
}

// GradNormSq is 0: full attention has no parameters.
func (c *component) GradNormSq() (float64, error) { return 0, nil }

// Step does nothing: full attention has no parameters.
func (c *component) Step(sdk.StepArgs) error { return nil }
