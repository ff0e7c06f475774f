package bigbird

import (
	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/internal/layers"
	"github.com/attnlab/attnlab/plugins/sdk"
)

const (
	name    = "bigbird"
	version = "1.1.0"
)

// New returns the BigBird attention component. Call Init before Forward.
func New() sdk.Attention { return &component{set: layers.Set{Name: name}} }

type component struct {
	set  layers.Set
	lse  []layers.View              // per layer, LSEShape(B, H, T)
	opts []attention.BigBirdOptions // per layer: causal flag, block, random blocks and their seed
}

func (c *component) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindAttention,
		Name:    name,
		Version: version,
		Doc:     "block-sparse attention in BigBird's ITC layout: 3 window, 2 global and r random blocks (Zaheer et al. 2020, §2, App. D)",
		Params: []sdk.Param{
			{Name: "block", Type: sdk.Int, Default: int64(64), Min: sdk.Bound(1),
				Doc: "b: tokens per block; at most the sequence length"},
			{Name: "random_blocks", Type: sdk.Int, Default: int64(3), Min: sdk.Bound(0),
				Doc: "r: random key blocks per query block and head, drawn from the trial seed (fewer when fewer are left)"},
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
	if err := c.set.SelfOnly(spec, "block-sparse attention"); err != nil {
		return err
	}
	blk, random := cfg.Int("block"), cfg.Int("random_blocks")
	// Each layer draws its own random blocks (as BigBird's reference
	// implementation does per layer), from a stream named by the
	// component and keyed by the layer, so the layout is fixed by the seed.
	seeds := rng.New(spec.Seed).SplitName(name)
	c.lse = make([]layers.View, spec.Layers)
	c.opts = make([]attention.BigBirdOptions, spec.Layers)
	for i := range spec.Layers {
		ls := spec.Layer(i)
		if blk > ls.MaxQ {
			return c.set.Errorf("parameter \"block\" = %d is longer than layer %d's sequence of %d tokens: want 1 <= block <= %d (BigBird needs several blocks: 3 window and 2 global ones)",
				blk, i, ls.MaxQ, ls.MaxQ)
		}
		c.lse[i] = layers.NewView(attention.LSEShape(spec.Batch, spec.Heads, ls.MaxQ)...)
		c.opts[i] = attention.BigBirdOptions{Options: attention.Options{Causal: ls.Causal, Scale: scale},
			Block: blk, Random: random, Seed: seeds.Split(uint64(i)).Uint64()}
	}
	c.set.Build(spec)
	return nil
}

// Forward computes block-sparse attention for layer i (Big Bird §2): each
// query block attends to its window, the global and its random blocks.
func (c *component) Forward(i int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	l, out, err := c.set.Begin(i, q, k, v, keyMask)
	if err != nil {
		return nil, err
	}
	if l.Tq != l.Tk {
		return nil, c.set.Errorf("Forward of layer %d: %d queries and %d keys: block-sparse attention is self-attention, with as many queries as keys", i, l.Tq, l.Tk)
	}
	lse := c.lse[i].Resize(attention.LSEShape(l.B, c.set.Spec.Heads, l.Tq)...)
	if err := attention.BigBirdForward(out, lse, q, k, v, l.KeyMask, c.opts[i]); err != nil {
		return nil, c.set.Errorf("Forward of layer %d: %w", i, err)
	}
	l.Keep()
	return out, nil
}

// Backward recomputes the attended blocks' probabilities from the
// log-sum-exps; it reads the output Forward returned, which callers leave
// unchanged.
func (c *component) Backward(i int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	l, dq, dk, dv, err := c.set.BeginBackward(i, dout)
	if err != nil {
		return nil, nil, nil, err
	}
	out, lse := l.Out.Tensor(), c.lse[i].Tensor()
	if err := attention.BigBirdBackward(dq, dk, dv, dout, l.Q, l.K, l.V, out, lse, l.KeyMask, c.opts[i]); err != nil {
		return nil, nil, nil, c.set.Errorf("Backward of layer %d: %w (were q, k or v changed since its Forward?)", i, err)
	}
	return dq, dk, dv, nil
}

// GradNormSq is 0: the component has no parameters.
func (c *component) GradNormSq() (float64, error) { return 0, nil }

// Step does nothing: the component has no parameters.
func (c *component) Step(sdk.StepArgs) error { return nil }
