package full

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

const (
	name    = "full"
	version = "1.0.0"
)

// New returns the full softmax attention component. Call Init before
// Forward.
func New() sdk.Attention { return &component{} }

type component struct {
	spec   sdk.AttentionSpec
	layers []*layer // one per attention layer; nil before Init
}

// layer holds one attention layer's buffers, sized at Init for the largest
// call, and what its Backward needs from the last Forward.
type layer struct {
	out view   // (B, H, Tq, D): the output returned by Forward
	att view   // CacheShape(B, H, Tq, Tk): probabilities for the backward
	dq  view   // (B, H, Tq, D)
	dk  view   // (B, KVH, Tk, D)
	dv  view   // (B, KVH, Tk, D)
	buf []bool // (Batch·MaxK): room for a copy of the key mask

	spec sdk.AttentionLayer // the layer's role, mask and longest sequences
	opt  attention.Options

	// set by a successful Forward; q == nil means no Forward yet
	q, k, v   *tensor.Tensor // the caller's inputs, unchanged until Backward
	keyMask   []bool         // nil or buf[:B·Tk]
	b, tq, tk int            // batch, query and key lengths of the call
}

// view is a tensor header over a prefix of a buffer allocated once for the
// largest shape, so a smaller call reshapes it without allocating.
type view struct {
	buf []float32
	t   tensor.Tensor
}

func newView(shape ...int) view {
	// In shared memory when served as a plugin: outputs and gradients
	// reach the architecture without a copy.
	return view{buf: sdk.NewTensor(tensor.Numel(shape)).Data, t: tensor.Tensor{Shape: append([]int(nil), shape...)}}
}

// resize points the header at the first Numel(shape) elements. shape has
// the rank given to newView and fits in the buffer (callers check).
func (v *view) resize(shape ...int) *tensor.Tensor {
	copy(v.t.Shape, shape)
	v.t.Data = v.buf[:tensor.Numel(shape)]
	return &v.t
}

func (c *component) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindAttention,
		Name:    name,
		Version: version,
		Doc:     "exact softmax attention (Vaswani et al. 2017): O(T²) time and memory, the baseline",
		Params: []sdk.Param{
			{Name: "scale", Type: sdk.Float, Default: 0.0, Min: sdk.Bound(0),
				Doc: "multiplies Q·Kᵀ before the softmax; 0 means 1/sqrt(head_dim)"},
		},
		Capabilities: []string{"causal", "padding_mask", "kv_heads", sdk.Stateless},
	}
}

// errorf returns an error prefixed with the component's name.
func errorf(format string, args ...any) error {
	return fmt.Errorf("attention %q: "+format, append([]any{name}, args...)...)
}

func (c *component) Init(cfg sdk.Config, spec sdk.AttentionSpec) error {
	c.layers = nil
	// Resolve fills in defaults, so a partial (or nil) config works too.
	cfg, err := c.Describe().Resolve(cfg)
	if err != nil {
		return err
	}
	scale := cfg.Float("scale")
	if math.IsNaN(scale) || math.IsInf(scale, 0) || scale > math.MaxFloat32 {
		return errorf("parameter \"scale\" = %v: want a finite number >= 0 (0 means 1/sqrt(head_dim))", scale)
	}
	for _, f := range []struct {
		field string
		v     int
	}{{"Layers", spec.Layers}, {"Heads", spec.Heads}, {"HeadDim", spec.HeadDim}, {"MaxSeq", spec.MaxSeq}, {"Batch", spec.Batch}} {
		if f.v < 1 {
			return errorf("Init: spec.%s = %d, want at least 1", f.field, f.v)
		}
	}
	if spec.KVHeads < 1 || spec.Heads%spec.KVHeads != 0 {
		return errorf("Init: spec.KVHeads = %d does not divide Heads = %d: each key/value head serves Heads/KVHeads query heads (KVHeads = 1 is multi-query attention)", spec.KVHeads, spec.Heads)
	}
	if err := spec.Check(); err != nil {
		return errorf("Init: %w", err)
	}
	b, h, kvh, d := spec.Batch, spec.Heads, spec.KVHeads, spec.HeadDim
	layers := make([]*layer, spec.Layers)
	for i := range layers {
		ls := spec.Layer(i)
		sq, sk := ls.MaxQ, ls.MaxK
		layers[i] = &layer{
			out:  newView(b, h, sq, d),
			att:  newView(attention.CacheShape(b, h, sq, sk)...),
			dq:   newView(b, h, sq, d),
			dk:   newView(b, kvh, sk, d),
			dv:   newView(b, kvh, sk, d),
			buf:  make([]bool, b*sk),
			spec: ls,
			opt:  attention.Options{Causal: ls.Causal, Scale: float32(scale)},
		}
	}
	c.spec, c.layers = spec, layers
	return nil
}

// layer returns layer i, or an error naming the valid range.
func (c *component) layer(op string, i int) (*layer, error) {
	if c.layers == nil {
		return nil, errorf("%s called before a successful Init", op)
	}
	if i < 0 || i >= len(c.layers) {
		return nil, errorf("%s: layer %d is out of range [0, %d) (spec.Layers = %d)", op, i, len(c.layers), len(c.layers))
	}
	return c.layers[i], nil
}

// Forward returns softmax(scale·q·kᵀ + mask)·v for layer i.
func (c *component) Forward(i int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	l, err := c.layer("Forward", i)
	if err != nil {
		return nil, err
	}
	l.q = nil // no Backward from a failed Forward
	b, tq, tk, err := c.checkInputs(i, l.spec, q, k, v, keyMask)
	if err != nil {
		return nil, err
	}
	h, d := c.spec.Heads, c.spec.HeadDim
	out := l.out.resize(b, h, tq, d)
	att := l.att.resize(attention.CacheShape(b, h, tq, tk)...)
	var km []bool
	if keyMask != nil {
		// A copy: the mask is the caller's and Backward needs it unchanged.
		km = l.buf[:b*tk]
		copy(km, keyMask)
	}
	forward := attention.FullForward
	if c.spec.KVHeads < h {
		// GQA/MQA: query head h reads key/value head h/(H/KVH) (Ainslie
		// et al. 2023, §2), through k and v repeated in a kernel scratch.
		forward = attention.FullGroupedForward
	}
	if err := forward(out, att, q, k, v, km, l.opt); err != nil {
		return nil, errorf("Forward of layer %d: %w", i, err)
	}
	l.q, l.k, l.v, l.keyMask = q, k, v, km
	l.b, l.tq, l.tk = b, tq, tk
	return out, nil
}

// checkInputs validates q (B, H, Tq, D), k and v (B, KVH, Tk, D) and the
// key mask against the spec given to Init (ls is layer i's), and returns
// B, Tq and Tk.
func (c *component) checkInputs(i int, ls sdk.AttentionLayer, q, k, v *tensor.Tensor, keyMask []bool) (b, tq, tk int, err error) {
	s := c.spec
	if q == nil || k == nil || v == nil {
		return 0, 0, 0, errorf("Forward of layer %d: q, k and v must all be non-nil", i)
	}
	for _, x := range []struct {
		name string
		t    *tensor.Tensor
	}{{"q", q}, {"k", k}, {"v", v}} {
		if x.t.Rank() != 4 || tensor.Numel(x.t.Shape) != len(x.t.Data) {
			return 0, 0, 0, errorf("Forward of layer %d: %s has shape %s and %d elements, want a (B, heads, T, head_dim) tensor", i, x.name, tensor.FormatShape(x.t.Shape), len(x.t.Data))
		}
	}
	b, tq, tk = q.Shape[0], q.Shape[2], k.Shape[2]
	if b < 1 || b > s.Batch || tq < 1 || tq > ls.MaxQ || q.Shape[1] != s.Heads || q.Shape[3] != s.HeadDim {
		return 0, 0, 0, errorf("Forward of layer %d: q has shape %s, want (B, %d, T, %d) with 1 <= B <= %d and 1 <= T <= %d, as Init's spec says",
			i, tensor.FormatShape(q.Shape), s.Heads, s.HeadDim, s.Batch, ls.MaxQ)
	}
	if k.Shape[0] != b || tk < 1 || tk > ls.MaxK || k.Shape[1] != s.KVHeads || k.Shape[3] != s.HeadDim {
		return 0, 0, 0, errorf("Forward of layer %d: k has shape %s, want (%d, %d, Tk, %d) with 1 <= Tk <= %d (q is %s)",
			i, tensor.FormatShape(k.Shape), b, s.KVHeads, s.HeadDim, ls.MaxK, tensor.FormatShape(q.Shape))
	}
	if !tensor.SameShape(v.Shape, k.Shape) {
		return 0, 0, 0, errorf("Forward of layer %d: v has shape %s, want k's shape %s", i, tensor.FormatShape(v.Shape), tensor.FormatShape(k.Shape))
	}
	if keyMask != nil && len(keyMask) != b*tk {
		return 0, 0, 0, errorf("Forward of layer %d: the key mask has %d flags, want B·Tk = %d·%d = %d", i, len(keyMask), b, tk, b*tk)
	}
	return b, tq, tk, nil
}

// Backward returns the gradients of q, k and v of the last Forward of
// layer i given dout, the gradient of its output.
func (c *component) Backward(i int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	l, err := c.layer("Backward", i)
	if err != nil {
		return nil, nil, nil, err
	}
	if l.q == nil {
		return nil, nil, nil, errorf("Backward of layer %d without a successful Forward of it", i)
	}
	h, kvh, d := c.spec.Heads, c.spec.KVHeads, c.spec.HeadDim
	if dout == nil {
		return nil, nil, nil, errorf("Backward of layer %d: dout is nil", i)
	}
	if dout.Rank() != 4 || dout.Shape[0] != l.b || dout.Shape[1] != h || dout.Shape[2] != l.tq || dout.Shape[3] != d || len(dout.Data) != l.b*h*l.tq*d {
		return nil, nil, nil, errorf("Backward of layer %d: dout has shape %s and %d elements, want the output's shape (%d, %d, %d, %d)",
			i, tensor.FormatShape(dout.Shape), len(dout.Data), l.b, h, l.tq, d)
	}
	dq = l.dq.resize(l.b, h, l.tq, d)
	dk = l.dk.resize(l.b, kvh, l.tk, d)
	dv = l.dv.resize(l.b, kvh, l.tk, d)
	dq.Zero()
	dk.Zero()
	dv.Zero()
	att := &l.att.t // as the Forward left it
	backward := attention.FullBackward
	if kvh < h {
		backward = attention.FullGroupedBackward // dk, dv summed over each group
	}
	if err := backward(dq, dk, dv, dout, l.q, l.k, l.v, att, l.keyMask, l.opt); err != nil {
		return nil, nil, nil, errorf("Backward of layer %d: %w (were q, k or v changed since its Forward?)", i, err)
	}
	return dq, dk, dv, nil
}

// GradNormSq is 0: full attention has no parameters.
func (c *component) GradNormSq() (float64, error) { return 0, nil }

// Step does nothing: full attention has no parameters.
func (c *component) Step(sdk.StepArgs) error { return nil }
