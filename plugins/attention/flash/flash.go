package flash

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/internal/layers"
	"github.com/attnlab/attnlab/plugins/sdk"
)

const (
	name    = "flash"
	version = "1.1.0"
)

// New returns the flash attention component. Call Init before Forward.
func New() sdk.Attention { return &component{set: layers.Set{Name: name}} }

type component struct {
	set  layers.Set
	lse  []layers.View // per layer, LSEShape(B, H, Tq): the forward's log-sum-exps
	opts []attention.Options
}

func (c *component) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindAttention,
		Name:    name,
		Version: version,
		Doc:     "exact softmax attention computed in tiles with an online softmax (FlashAttention-2, Dao 2023, §3.1): memory linear in T",
		Params: []sdk.Param{
			layers.ScaleParam(),
		},
		Capabilities: []string{"causal", "padding_mask", "kv_heads", sdk.Stateless},
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
	// Every layer kind works: self-attention, causal or not, and
	// cross-attention with Tq != Tk (the causal rule aligns the last
	// query with the last key, as FullForward's).
	c.lse = make([]layers.View, spec.Layers)
	c.opts = make([]attention.Options, spec.Layers)
	for i := range spec.Layers {
		ls := spec.Layer(i)
		c.lse[i] = layers.NewView(attention.LSEShape(spec.Batch, spec.Heads, ls.MaxQ)...)
		c.opts[i] = attention.Options{Causal: ls.Causal, Scale: scale}
	}
	c.set.Build(spec)
	return nil
}

// Forward returns softmax(scale·q·kᵀ + mask)·v for layer i, keeping one
// log-sum-exp per query for the backward (FlashAttention-2, Algorithm 1).
func (c *component) Forward(i int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	l, out, err := c.set.Begin(i, q, k, v, keyMask)
	if err != nil {
		return nil, err
	}
	lse := c.lse[i].Resize(attention.LSEShape(l.B, c.set.Spec.Heads, l.Tq)...)
	if err := attention.FlashForward(out, lse, q, k, v, l.KeyMask, c.opts[i]); err != nil {
		return nil, c.set.Errorf("Forward of layer %d: %w", i, err)
	}
	l.Keep()
	return out, nil
}

// Backward recomputes the probabilities block by block from the
// log-sum-exps (FlashAttention-2, Algorithm 2). It reads the output
// Forward returned, which callers must leave unchanged (through a plugin
// process it is mapped read-only).
func (c *component) Backward(i int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	l, dq, dk, dv, err := c.set.BeginBackward(i, dout)
	if err != nil {
		return nil, nil, nil, err
	}
	out, lse := l.Out.Tensor(), c.lse[i].Tensor()
	if err := attention.FlashBackward(dq, dk, dv, dout, l.Q, l.K, l.V, out, lse, l.KeyMask, c.opts[i]); err != nil {
		return nil, nil, nil, c.set.Errorf("Backward of layer %d: %w (were q, k or v changed since its Forward?)", i, err)
	}
	return dq, dk, dv, nil
}

// GradNormSq is 0: flash attention has no parameters.
func (c *component) GradNormSq() (float64, error) { return 0, nil }

// Step does nothing: flash attention has no parameters.
func (c *component) Step(sdk.StepArgs) error { return nil }
