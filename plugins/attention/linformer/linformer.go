package linformer

import (
	"math"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/internal/layers"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// version 1.0.1: the gradient norm sums each projection's squares in
// eight partial sums (optim.SumSquares), which moves its last bits.
const (
	name    = "linformer"
	version = "1.0.1"
)

// The sharing modes of Linformer §4 ("Parameter sharing").
const (
	shareNone      = "none"      // E and F per layer and per key/value head
	shareHeadwise  = "headwise"  // E and F per layer, shared by its heads
	shareKV        = "kv"        // one E = F per layer
	shareLayerwise = "layerwise" // one E = F for every layer and head
)

// New returns the Linformer attention component. Call Init before Forward.
func New() sdk.Attention { return &component{set: layers.Set{Name: name}} }

type component struct {
	set    layers.Set
	k      int
	params []*param // every E and F once, in creation order
	lin    []*linLayer
	opt    optim.Optimizer
}

// linLayer is one layer's projections and what Forward caches for
// Backward (Linformer §4, eq. 7).
type linLayer struct {
	e, f   *param      // f == e under kv and layerwise sharing
	kp, vp layers.View // (B, KVH, k, D): E·K and F·V
	att    layers.View // CacheShape(B, H, Tq, k): the probabilities
	// When a call has fewer keys than the projections' n: the first Tk
	// columns of E and F, (P, k, Tk), and their gradients.
	ec, fc, dec, dfc []float32
	ecT, fcT         tensor.Tensor
	decT, dfcT       tensor.Tensor
	opt              attention.Options
}

func (c *component) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindAttention,
		Name:    name,
		Version: version,
		Doc:     "softmax attention over keys and values projected along the sequence to k rows by learned E, F (Linformer, Wang et al. 2020, §4, eq. 7): O(T·k), not causal",
		Params: []sdk.Param{
			{Name: "k", Type: sdk.Int, Default: int64(128), Min: sdk.Bound(1),
				Doc: "projected length: keys and values are projected from n = MaxK positions to k rows; at most n"},
			{Name: "sharing", Type: sdk.String, Default: shareHeadwise, Choices: []string{shareNone, shareHeadwise, shareKV, shareLayerwise},
				Doc: "projection sharing (§4): none (per head), headwise (E, F per layer), kv (E = F per layer), layerwise (one E = F)"},
			{Name: "init_std", Type: sdk.Float, Default: 0.0, Min: sdk.Bound(0),
				Doc: "standard deviation of E and F's normal initialisation from the trial seed; 0 means 1/sqrt(n)"},
			{Name: "scale", Type: sdk.Float, Default: 0.0, Min: sdk.Bound(0),
				Doc: "multiplies Q·(E·K)ᵀ before the softmax; 0 means 1/sqrt(head_dim)"},
		},
		Capabilities: []string{"padding_mask", "kv_heads"},
	}
}

func (c *component) Init(cfg sdk.Config, spec sdk.AttentionSpec) error {
	c.set.Layers, c.lin, c.params, c.opt = nil, nil, nil, nil
	cfg, err := c.Describe().Resolve(cfg)
	if err != nil {
		return err
	}
	for _, p := range []string{"scale", "init_std"} {
		if x := cfg.Float(p); math.IsNaN(x) || math.IsInf(x, 0) || x > math.MaxFloat32 {
			return c.set.Errorf("parameter %q = %v: want a finite number >= 0", p, x)
		}
	}
	if err := c.set.CheckSpec(spec); err != nil {
		return err
	}
	k := cfg.Int("k")
	for i := range spec.Layers {
		ls := spec.Layer(i)
		if ls.Causal {
			return c.set.Errorf("Init: layer %d is causal, but Linformer cannot do causal attention (Wang et al. 2020, §4: every projected key E·K mixes all n positions, so an output would see later tokens); use full, flash, longformer, bigbird or performer for causal layers", i)
		}
		if k > ls.MaxK {
			return c.set.Errorf("parameter \"k\" = %d is larger than layer %d's key length n = %d (MaxK): want 1 <= k <= %d", k, i, ls.MaxK, ls.MaxK)
		}
	}
	c.k = k
	c.buildParams(spec, cfg.String("sharing"), cfg.Float("init_std"))
	scale := float32(cfg.Float("scale"))
	b, h, kvh, d := spec.Batch, spec.Heads, spec.KVHeads, spec.HeadDim
	for i, l := range c.lin {
		ls := spec.Layer(i)
		l.kp = layers.NewView(b, kvh, k, d)
		l.vp = layers.NewView(b, kvh, k, d)
		l.att = layers.NewView(attention.CacheShape(b, h, ls.MaxQ, k)...)
		n := l.e.v.Shape[0] * k * ls.MaxK
		l.ec, l.fc, l.dec, l.dfc = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for _, t := range []*tensor.Tensor{&l.ecT, &l.fcT, &l.decT, &l.dfcT} {
			t.Shape = []int{l.e.v.Shape[0], k, 0}
		}
		l.opt = attention.Options{Scale: scale}
	}
	opt := spec.Optimizer
	if opt.Name == "" {
		opt = sdk.DefaultOptimizer()
	}
	if c.opt, err = newOptimizer(opt, c.params); err != nil {
		return c.set.Errorf("Init: %w", err)
	}
	c.set.Build(spec)
	return nil
}

// projections returns layer l's E and F for a call with tk keys: the
// parameters themselves when tk is their n, or else copies of their first
// tk columns, which is Linformer on keys and values zero-padded to n.
func (l *linLayer) projections(tk int) (e, f *tensor.Tensor) {
	n := l.e.v.Shape[2]
	if tk == n {
		return l.e.v, l.f.v
	}
	e = columns(&l.ecT, l.ec, l.e.v, tk)
	if l.f == l.e {
		return e, e
	}
	return e, columns(&l.fcT, l.fc, l.f.v, tk)
}

// columns copies the first tk columns of src (P, k, n) into buf and
// returns it as t, (P, k, tk).
func columns(t *tensor.Tensor, buf []float32, src *tensor.Tensor, tk int) *tensor.Tensor {
	p, k, n := src.Shape[0], src.Shape[1], src.Shape[2]
	t.Shape[2] = tk
	t.Data = buf[:p*k*tk]
	for r := range p * k {
		copy(t.Data[r*tk:(r+1)*tk], src.Data[r*n:r*n+tk])
	}
	return t
}

// Forward computes softmax(scale·Q·(E·K)ᵀ)·(F·V) for layer i (eq. 7).
func (c *component) Forward(i int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	l, out, err := c.set.Begin(i, q, k, v, keyMask)
	if err != nil {
		return nil, err
	}
	if l.Tk < c.k {
		return nil, c.set.Errorf("Forward of layer %d: %d keys are fewer than the k = %d rows they are projected to: want Tk >= k", i, l.Tk, c.k)
	}
	ll, sp := c.lin[i], c.set.Spec
	e, f := ll.projections(l.Tk)
	kp := ll.kp.Resize(l.B, sp.KVHeads, c.k, sp.HeadDim)
	vp := ll.vp.Resize(l.B, sp.KVHeads, c.k, sp.HeadDim)
	att := ll.att.Resize(attention.CacheShape(l.B, sp.Heads, l.Tq, c.k)...)
	if err := attention.LinformerForward(out, kp, vp, att, q, k, v, e, f, l.KeyMask, ll.opt); err != nil {
		return nil, c.set.Errorf("Forward of layer %d: %w", i, err)
	}
	l.Keep()
	return out, nil
}

// Backward returns dq, dk and dv and accumulates the gradients of E and F
// until the next Step.
func (c *component) Backward(i int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	l, dq, dk, dv, err := c.set.BeginBackward(i, dout)
	if err != nil {
		return nil, nil, nil, err
	}
	ll := c.lin[i]
	e, f := ll.projections(l.Tk)
	kp, vp, att := ll.kp.Tensor(), ll.vp.Tensor(), ll.att.Tensor()
	// Under kv and layerwise sharing E = F: both gradients go into one
	// buffer, which is dE + dF (the kernel adds them one after the other).
	var de, df *tensor.Tensor
	if n := ll.e.v.Shape[2]; l.Tk == n {
		de, df = ll.e.g, ll.f.g
	} else {
		de = zeroed(&ll.decT, ll.dec, l.Tk)
		df = de
		if ll.f != ll.e {
			df = zeroed(&ll.dfcT, ll.dfc, l.Tk)
		}
	}
	if err := attention.LinformerBackward(dq, dk, dv, de, df, dout, l.Q, l.K, l.V, e, f, kp, vp, att, l.KeyMask, ll.opt); err != nil {
		return nil, nil, nil, c.set.Errorf("Backward of layer %d: %w (were q, k or v changed since its Forward?)", i, err)
	}
	if de != ll.e.g {
		addColumns(ll.e.g, de)
		if ll.f != ll.e {
			addColumns(ll.f.g, df)
		}
	}
	return dq, dk, dv, nil
}

// zeroed returns buf as t, (P, k, tk), cleared.
func zeroed(t *tensor.Tensor, buf []float32, tk int) *tensor.Tensor {
	t.Shape[2] = tk
	t.Data = buf[:tensor.Numel(t.Shape)]
	clear(t.Data)
	return t
}

// addColumns adds g (P, k, tk) into the first tk columns of dst (P, k, n).
func addColumns(dst, g *tensor.Tensor) {
	n, tk := dst.Shape[2], g.Shape[2]
	for r := range dst.Shape[0] * dst.Shape[1] {
		row := dst.Data[r*n : r*n+tk]
		for j, x := range g.Data[r*tk : (r+1)*tk] {
			row[j] += x
		}
	}
}
