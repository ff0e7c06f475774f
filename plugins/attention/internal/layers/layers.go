// Package layers holds the bookkeeping every attnlab attention plugin
// shares, so that a variant's own file is about its kernel: per-layer
// buffers allocated once at Init in shared memory (sdk.NewTensor) and
// resized per call, the checks of Forward's and Backward's arguments
// against the spec, and what a layer's Backward needs from its Forward
// (the caller's q, k and v, a copy of the key mask, the call's sizes).
//
// It follows plugins/attention/full, the reference component, whose error
// messages it keeps.
package layers

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// View is a tensor header over a prefix of a buffer allocated once for the
// largest shape, so a smaller call reshapes it without allocating.
type View struct {
	buf []float32
	t   tensor.Tensor
}

// NewView allocates a buffer for shape, in shared memory when served as a
// plugin: outputs and gradients reach the caller without a copy.
func NewView(shape ...int) View {
	return View{buf: sdk.NewTensor(tensor.Numel(shape)).Data, t: tensor.Tensor{Shape: append([]int(nil), shape...)}}
}

// Resize points the header at the first Numel(shape) elements. shape has
// the rank given to NewView and fits in the buffer (callers check).
func (v *View) Resize(shape ...int) *tensor.Tensor {
	copy(v.t.Shape, shape)
	v.t.Data = v.buf[:tensor.Numel(shape)]
	return &v.t
}

// Tensor returns the header as the last Resize left it.
func (v *View) Tensor() *tensor.Tensor { return &v.t }

// Layer is one attention layer's shared state.
type Layer struct {
	Spec sdk.AttentionLayer // role, causal flag and longest sequences

	Out        View // (B, H, Tq, D): Forward's result
	DQ, DK, DV View // (B, H, Tq, D), (B, KVH, Tk, D) twice: Backward's results

	maskBuf []bool // (Batch·MaxK): room for a copy of the key mask

	// Set by Begin; Q == nil means no successful Forward yet.
	Q, K, V   *tensor.Tensor // the caller's inputs, unchanged until Backward
	KeyMask   []bool         // nil or a copy of the caller's mask, B·Tk flags
	B, Tq, Tk int            // batch, query and key lengths of the call
	ready     bool
}

// Set is a component's layers and the spec they were built from.
type Set struct {
	Name   string // the component's name, prefixed to every error
	Spec   sdk.AttentionSpec
	Layers []*Layer // nil before a successful Init
}

// Errorf returns an error prefixed with the component's name, as
// `attention "flash": ...`.
func (s *Set) Errorf(format string, args ...any) error {
	return fmt.Errorf("attention %q: "+format, append([]any{s.Name}, args...)...)
}

// ScaleParam is the scale parameter of the variants that scale Q·Kᵀ
// before an exact or block-sparse softmax.
func ScaleParam() sdk.Param {
	return sdk.Param{Name: "scale", Type: sdk.Float, Default: 0.0, Min: sdk.Bound(0),
		Doc: "multiplies Q·Kᵀ before the softmax; 0 means 1/sqrt(head_dim)"}
}

// Scale returns the resolved "scale" parameter of cfg as a float32, or an
// error unless it is finite and fits a float32 (Resolve has checked that
// it is not negative); 0 asks the kernels for 1/sqrt(head_dim).
func (s *Set) Scale(cfg sdk.Config) (float32, error) {
	scale := cfg.Float("scale")
	if math.IsNaN(scale) || math.IsInf(scale, 0) || scale > math.MaxFloat32 {
		return 0, s.Errorf("parameter \"scale\" = %v: want a finite number >= 0 (0 means 1/sqrt(head_dim))", scale)
	}
	return float32(scale), nil
}

// CheckSpec validates spec's sizes and per-layer specs (sdk's Check) and
// reports the first problem with the component's prefix.
func (s *Set) CheckSpec(spec sdk.AttentionSpec) error {
	for _, f := range []struct {
		field string
		v     int
	}{{"Layers", spec.Layers}, {"Heads", spec.Heads}, {"HeadDim", spec.HeadDim}, {"MaxSeq", spec.MaxSeq}, {"Batch", spec.Batch}} {
		if f.v < 1 {
			return s.Errorf("Init: spec.%s = %d, want at least 1", f.field, f.v)
		}
	}
	if spec.KVHeads < 1 || spec.Heads%spec.KVHeads != 0 {
		return s.Errorf("Init: spec.KVHeads = %d does not divide Heads = %d: each key/value head serves Heads/KVHeads query heads (KVHeads = 1 is multi-query attention)", spec.KVHeads, spec.Heads)
	}
	if err := spec.Check(); err != nil {
		return s.Errorf("Init: %w", err)
	}
	return nil
}

// Build allocates every layer's output, gradients and mask copy for the
// largest call spec allows; CheckSpec must have passed.
func (s *Set) Build(spec sdk.AttentionSpec) {
	b, h, kvh, d := spec.Batch, spec.Heads, spec.KVHeads, spec.HeadDim
	layers := make([]*Layer, spec.Layers)
	for i := range layers {
		ls := spec.Layer(i)
		layers[i] = &Layer{
			Spec:    ls,
			Out:     NewView(b, h, ls.MaxQ, d),
			DQ:      NewView(b, h, ls.MaxQ, d),
			DK:      NewView(b, kvh, ls.MaxK, d),
			DV:      NewView(b, kvh, ls.MaxK, d),
			maskBuf: make([]bool, b*ls.MaxK),
		}
	}
	s.Spec, s.Layers = spec, layers
}

// Layer returns layer i, or an error naming the valid range.
func (s *Set) Layer(op string, i int) (*Layer, error) {
	if s.Layers == nil {
		return nil, s.Errorf("%s called before a successful Init", op)
	}
	if i < 0 || i >= len(s.Layers) {
		return nil, s.Errorf("%s: layer %d is out of range [0, %d) (spec.Layers = %d)", op, i, len(s.Layers), len(s.Layers))
	}
	return s.Layers[i], nil
}

// Begin starts Forward of layer i: it forgets the layer's last Forward,
// checks q (B, H, Tq, D), k and v (B, KVH, Tk, D) and the key mask against
// the spec, copies the mask (the caller's may change before Backward),
// records the inputs and sizes, and returns the layer with its output
// resized. The variant then runs its kernel and calls Keep on success.
func (s *Set) Begin(i int, q, k, v *tensor.Tensor, keyMask []bool) (*Layer, *tensor.Tensor, error) {
	l, err := s.Layer("Forward", i)
	if err != nil {
		return nil, nil, err
	}
	l.ready = false // no Backward from a failed Forward
	b, tq, tk, err := s.checkInputs(i, l.Spec, q, k, v, keyMask)
	if err != nil {
		return nil, nil, err
	}
	l.KeyMask = nil
	if keyMask != nil {
		l.KeyMask = l.maskBuf[:b*tk]
		copy(l.KeyMask, keyMask)
	}
	l.Q, l.K, l.V, l.B, l.Tq, l.Tk = q, k, v, b, tq, tk
	return l, l.Out.Resize(b, s.Spec.Heads, tq, s.Spec.HeadDim), nil
}

// Keep marks the layer's Forward successful: Backward may follow.
func (l *Layer) Keep() { l.ready = true }

func (s *Set) checkInputs(i int, ls sdk.AttentionLayer, q, k, v *tensor.Tensor, keyMask []bool) (b, tq, tk int, err error) {
	sp := s.Spec
	if q == nil || k == nil || v == nil {
		return 0, 0, 0, s.Errorf("Forward of layer %d: q, k and v must all be non-nil", i)
	}
	for _, x := range []struct {
		name string
		t    *tensor.Tensor
	}{{"q", q}, {"k", k}, {"v", v}} {
		if x.t.Rank() != 4 || tensor.Numel(x.t.Shape) != len(x.t.Data) {
			return 0, 0, 0, s.Errorf("Forward of layer %d: %s has shape %s and %d elements, want a (B, heads, T, head_dim) tensor", i, x.name, tensor.FormatShape(x.t.Shape), len(x.t.Data))
		}
	}
	b, tq, tk = q.Shape[0], q.Shape[2], k.Shape[2]
	if b < 1 || b > sp.Batch || tq < 1 || tq > ls.MaxQ || q.Shape[1] != sp.Heads || q.Shape[3] != sp.HeadDim {
		return 0, 0, 0, s.Errorf("Forward of layer %d: q has shape %s, want (B, %d, T, %d) with 1 <= B <= %d and 1 <= T <= %d, as Init's spec says",
			i, tensor.FormatShape(q.Shape), sp.Heads, sp.HeadDim, sp.Batch, ls.MaxQ)
	}
	if k.Shape[0] != b || tk < 1 || tk > ls.MaxK || k.Shape[1] != sp.KVHeads || k.Shape[3] != sp.HeadDim {
		return 0, 0, 0, s.Errorf("Forward of layer %d: k has shape %s, want (%d, %d, Tk, %d) with 1 <= Tk <= %d (q is %s)",
			i, tensor.FormatShape(k.Shape), b, sp.KVHeads, sp.HeadDim, ls.MaxK, tensor.FormatShape(q.Shape))
	}
	if !tensor.SameShape(v.Shape, k.Shape) {
		return 0, 0, 0, s.Errorf("Forward of layer %d: v has shape %s, want k's shape %s", i, tensor.FormatShape(v.Shape), tensor.FormatShape(k.Shape))
	}
	if keyMask != nil && len(keyMask) != b*tk {
		return 0, 0, 0, s.Errorf("Forward of layer %d: the key mask has %d flags, want B·Tk = %d·%d = %d", i, len(keyMask), b, tk, b*tk)
	}
	return b, tq, tk, nil
}

// BeginBackward starts Backward of layer i: it checks that a Forward of
// the layer succeeded and that dout has its output's shape, and returns
// the layer with dq, dk and dv resized and zeroed, for the kernel to
// accumulate into.
func (s *Set) BeginBackward(i int, dout *tensor.Tensor) (l *Layer, dq, dk, dv *tensor.Tensor, err error) {
	return s.beginBackward(i, dout, true)
}

// BeginBackwardTo is BeginBackward for a kernel that overwrites dq, dk
// and dv (attention.FullBackwardTo): they are resized, not zeroed.
func (s *Set) BeginBackwardTo(i int, dout *tensor.Tensor) (l *Layer, dq, dk, dv *tensor.Tensor, err error) {
	return s.beginBackward(i, dout, false)
}

func (s *Set) beginBackward(i int, dout *tensor.Tensor, zero bool) (l *Layer, dq, dk, dv *tensor.Tensor, err error) {
	if l, err = s.Layer("Backward", i); err != nil {
		return nil, nil, nil, nil, err
	}
	if !l.ready {
		return nil, nil, nil, nil, s.Errorf("Backward of layer %d without a successful Forward of it", i)
	}
	h, kvh, d := s.Spec.Heads, s.Spec.KVHeads, s.Spec.HeadDim
	if dout == nil {
		return nil, nil, nil, nil, s.Errorf("Backward of layer %d: dout is nil", i)
	}
	if dout.Rank() != 4 || dout.Shape[0] != l.B || dout.Shape[1] != h || dout.Shape[2] != l.Tq || dout.Shape[3] != d || len(dout.Data) != l.B*h*l.Tq*d {
		return nil, nil, nil, nil, s.Errorf("Backward of layer %d: dout has shape %s and %d elements, want the output's shape (%d, %d, %d, %d)",
			i, tensor.FormatShape(dout.Shape), len(dout.Data), l.B, h, l.Tq, d)
	}
	dq = l.DQ.Resize(l.B, h, l.Tq, d)
	dk = l.DK.Resize(l.B, kvh, l.Tk, d)
	dv = l.DV.Resize(l.B, kvh, l.Tk, d)
	if zero {
		dq.Zero()
		dk.Zero()
		dv.Zero()
	}
	return l, dq, dk, dv, nil
}

// SelfOnly reports the first layer of spec whose queries and keys may
// differ in length (cross-attention, or MaxQ != MaxK), for variants whose
// pattern is defined on one sequence; what names the variant in the error.
func (s *Set) SelfOnly(spec sdk.AttentionSpec, what string) error {
	for i := range spec.Layers {
		if ls := spec.Layer(i); ls.Role == sdk.RoleCross || ls.MaxQ != ls.MaxK {
			return s.Errorf("Init: layer %d is %s-attention with MaxQ = %d and MaxK = %d, but %s is defined on one sequence (queries and keys of equal length); use full or flash attention for cross-attention",
				i, ls.Role, ls.MaxQ, ls.MaxK, what)
		}
	}
	return nil
}
