package full

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func randT(r *rng.RNG, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	r.FillNormal(t.Data, 0, 1)
	return t
}

// identical fails unless got and want have the same shape and bits.
func identical(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %s, want %s", what, tensor.FormatShape(got.Shape), tensor.FormatShape(want.Shape))
	}
	for i := range want.Data {
		if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
			t.Fatalf("%s: element %d is %v, want %v (first values %v vs %v)", what, i, got.Data[i], want.Data[i], got.Data[:min(4, len(got.Data))], want.Data[:min(4, len(want.Data))])
		}
	}
}

func spec(layers, b, h, s, d int, causal bool) sdk.AttentionSpec {
	return sdk.AttentionSpec{Layers: layers, Heads: h, KVHeads: h, HeadDim: d, MaxSeq: s, Batch: b, Causal: causal, Seed: 1}
}

func mustInit(t *testing.T, cfg sdk.Config, sp sdk.AttentionSpec) sdk.Attention {
	t.Helper()
	a := New()
	if err := a.Init(cfg, sp); err != nil {
		t.Fatal(err)
	}
	return a
}

// padMask hides a suffix of keys in every batch row but the first.
func padMask(b, tk int) []bool {
	m := make([]bool, b*tk)
	for bi := range b {
		for j := range tk - bi {
			m[bi*tk+j] = true
		}
	}
	return m
}

// The component gives exactly what the kernels give, for the full batch
// and sequence and for smaller ones, with and without masks and a scale.
func TestMatchesKernels(t *testing.T) {
	const maxB, h, maxS, d = 3, 2, 40, 8
	for _, c := range []struct {
		b, tq, tk int
		causal    bool
		pad       bool
		scale     float64
	}{
		{3, 40, 40, true, false, 0},
		{3, 40, 40, false, true, 0},
		{2, 7, 7, true, true, 0},     // T < MaxSeq and B < Batch
		{1, 33, 33, false, false, 0}, // crosses a panel boundary
		{3, 5, 12, true, false, 0},   // Tq < Tk
		{2, 9, 9, true, false, 0.5},
	} {
		t.Run(fmt.Sprintf("B=%d/Tq=%d/Tk=%d/causal=%v/pad=%v/scale=%v", c.b, c.tq, c.tk, c.causal, c.pad, c.scale), func(t *testing.T) {
			r := rng.New(uint64(c.b*1000 + c.tq*10 + c.tk))
			q, k, v := randT(r, c.b, h, c.tq, d), randT(r, c.b, h, c.tk, d), randT(r, c.b, h, c.tk, d)
			dout := randT(r, c.b, h, c.tq, d)
			var mask []bool
			if c.pad {
				mask = padMask(c.b, c.tk)
			}
			opt := attention.Options{Causal: c.causal, Scale: float32(c.scale)}
			want, att := tensor.New(c.b, h, c.tq, d), tensor.New(attention.CacheShape(c.b, h, c.tq, c.tk)...)
			if err := attention.FullForward(want, att, q, k, v, mask, opt); err != nil {
				t.Fatal(err)
			}
			wdq, wdk, wdv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := attention.FullBackward(wdq, wdk, wdv, dout, q, k, v, att, mask, opt); err != nil {
				t.Fatal(err)
			}

			a := mustInit(t, sdk.Config{"scale": c.scale}, spec(2, maxB, h, maxS, d, c.causal))
			// Twice, so the second call runs on reused buffers with stale data.
			for range 2 {
				out, err := a.Forward(1, q, k, v, mask)
				if err != nil {
					t.Fatal(err)
				}
				identical(t, "out", out, want)
				dq, dk, dv, err := a.Backward(1, dout)
				if err != nil {
					t.Fatal(err)
				}
				identical(t, "dq", dq, wdq)
				identical(t, "dk", dk, wdk)
				identical(t, "dv", dv, wdv)
			}
		})
	}
}

// Layers keep their own caches: two Forwards, then Backwards in reverse
// order, give each layer's own gradients, even with different lengths.
func TestLayersAreIndependent(t *testing.T) {
	const b, h, s, d = 2, 2, 16, 4
	r := rng.New(3)
	a := mustInit(t, nil, spec(2, b, h, s, d, true))
	type call struct{ q, k, v, dout *tensor.Tensor }
	calls := []call{}
	for _, tt := range []int{16, 5} {
		calls = append(calls, call{randT(r, b, h, tt, d), randT(r, b, h, tt, d), randT(r, b, h, tt, d), randT(r, b, h, tt, d)})
	}
	for i, c := range calls {
		if _, err := a.Forward(i, c.q, c.k, c.v, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := len(calls) - 1; i >= 0; i-- {
		c := calls[i]
		dq, _, _, err := a.Backward(i, c.dout)
		if err != nil {
			t.Fatal(err)
		}
		opt := attention.Options{Causal: true}
		out, att := tensor.New(c.q.Shape...), tensor.New(attention.CacheShape(b, h, c.q.Shape[2], c.q.Shape[2])...)
		want := tensor.New(c.q.Shape...)
		if err := attention.FullForward(out, att, c.q, c.k, c.v, nil, opt); err != nil {
			t.Fatal(err)
		}
		if err := attention.FullBackward(want, nil, nil, c.dout, c.q, c.k, c.v, att, nil, opt); err != nil {
			t.Fatal(err)
		}
		identical(t, fmt.Sprintf("layer %d dq", i), dq, want)
	}
}

// The key mask is copied: changing the caller's slice after Forward does
// not change Backward.
func TestKeyMaskIsCopied(t *testing.T) {
	const b, h, s, d = 2, 1, 6, 4
	r := rng.New(4)
	q, k, v, dout := randT(r, b, h, s, d), randT(r, b, h, s, d), randT(r, b, h, s, d), randT(r, b, h, s, d)
	mask := padMask(b, s)
	a := mustInit(t, nil, spec(1, b, h, s, d, false))
	if _, err := a.Forward(0, q, k, v, mask); err != nil {
		t.Fatal(err)
	}
	_, wantDK, _, err := a.Backward(0, dout)
	if err != nil {
		t.Fatal(err)
	}
	want := wantDK.Clone()
	for i := range mask {
		mask[i] = true
	}
	_, dk, _, err := a.Backward(0, dout)
	if err != nil {
		t.Fatal(err)
	}
	identical(t, "dk after the caller changed its mask", dk, want)
}

func TestDescribe(t *testing.T) {
	d := New().Describe()
	if d.Kind != sdk.KindAttention || d.Name != "full" || d.Version != "1.1.1" {
		t.Fatalf("Describe: %+v", d)
	}
	if !d.Has("causal") || !d.Has("padding_mask") || !d.Has("kv_heads") || !d.Has(sdk.Stateless) || len(d.Capabilities) != 4 {
		t.Errorf("capabilities %v, want causal, padding_mask, kv_heads and stateless", d.Capabilities)
	}
	cfg, err := d.Resolve(nil)
	if err != nil || cfg.Float("scale") != 0 {
		t.Errorf("defaults: %v, %v", cfg, err)
	}
	if _, err := d.Resolve(map[string]any{"scale": -1.0}); err == nil {
		t.Error("a negative scale resolved")
	}
}

func TestNoParameters(t *testing.T) {
	a := mustInit(t, nil, spec(1, 1, 1, 4, 4, true))
	if n, err := a.GradNormSq(); n != 0 || err != nil {
		t.Errorf("GradNormSq = %v, %v", n, err)
	}
	if err := a.Step(sdk.StepArgs{LR: 1, GradScale: 1}); err != nil {
		t.Errorf("Step: %v", err)
	}
}

func TestAllocatesNothing(t *testing.T) {
	const b, h, s, d = 2, 2, 24, 8
	r := rng.New(5)
	a := mustInit(t, nil, spec(2, b, h, s, d, true))
	long := [4]*tensor.Tensor{randT(r, b, h, s, d), randT(r, b, h, s, d), randT(r, b, h, s, d), randT(r, b, h, s, d)}
	short := [4]*tensor.Tensor{randT(r, 1, h, 9, d), randT(r, 1, h, 9, d), randT(r, 1, h, 9, d), randT(r, 1, h, 9, d)}
	mask := padMask(b, s)
	step := func() {
		for _, x := range [][4]*tensor.Tensor{long, short} {
			for l := range 2 {
				m := mask
				if x[0].Shape[0] == 1 {
					m = nil
				}
				if _, err := a.Forward(l, x[0], x[1], x[2], m); err != nil {
					t.Fatal(err)
				}
				if _, _, _, err := a.Backward(l, x[3]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("a warmed-up Forward+Backward allocated %v times", n)
	}
}

func TestErrors(t *testing.T) {
	const b, h, s, d = 2, 2, 8, 4
	r := rng.New(6)
	good := func() (q, k, v *tensor.Tensor) {
		return randT(r, b, h, s, d), randT(r, b, h, s, d), randT(r, b, h, s, d)
	}

	initCases := []struct {
		name string
		cfg  sdk.Config
		sp   sdk.AttentionSpec
		want string
	}{
		{"kv heads not dividing heads", nil, sdk.AttentionSpec{Layers: 1, Heads: 4, KVHeads: 3, HeadDim: 4, MaxSeq: 8, Batch: 1}, "KVHeads = 3 does not divide Heads = 4"},
		{"no kv heads", nil, sdk.AttentionSpec{Layers: 1, Heads: 4, KVHeads: 0, HeadDim: 4, MaxSeq: 8, Batch: 1}, "KVHeads = 0 does not divide Heads = 4"},
		{"no layers", nil, spec(0, b, h, s, d, true), "spec.Layers = 0, want at least 1"},
		{"no batch", nil, spec(1, 0, h, s, d, true), "spec.Batch = 0"},
		{"no seq", nil, spec(1, b, h, 0, d, true), "spec.MaxSeq = 0"},
		{"unknown param", sdk.Config{"window": int64(3)}, spec(1, b, h, s, d, true), `no parameter "window"`},
		{"inf scale", sdk.Config{"scale": math.Inf(1)}, spec(1, b, h, s, d, true), `"scale" = +Inf`},
	}
	for _, c := range initCases {
		if err := New().Init(c.cfg, c.sp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Init %s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}

	a := New()
	q, k, v := good()
	if _, err := a.Forward(0, q, k, v, nil); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Forward before Init: %v", err)
	}
	a = mustInit(t, nil, spec(2, b, h, s, d, true))
	expect := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), `attention "full": `) {
			t.Errorf("%s: error %v, want it to contain %q", what, err, want)
		}
	}
	_, err := a.Forward(2, q, k, v, nil)
	expect("layer 2", err, "layer 2 is out of range [0, 2)")
	_, err = a.Forward(-1, q, k, v, nil)
	expect("layer -1", err, "layer -1 is out of range")
	_, _, _, err = a.Backward(0, q)
	expect("Backward first", err, "Backward of layer 0 without a successful Forward")
	_, err = a.Forward(0, randT(r, b, h+1, s, d), k, v, nil)
	expect("heads", err, "q has shape (2, 3, 8, 4), want (B, 2, T, 4) with 1 <= B <= 2 and 1 <= T <= 8")
	_, err = a.Forward(0, randT(r, b, h, s+1, d), k, v, nil)
	expect("T > MaxSeq", err, "q has shape (2, 2, 9, 4)")
	_, err = a.Forward(0, randT(r, b+1, h, s, d), k, v, nil)
	expect("B > Batch", err, "q has shape (3, 2, 8, 4)")
	_, err = a.Forward(0, q, randT(r, b, h, s, d+1), v, nil)
	expect("k head dim", err, "k has shape (2, 2, 8, 5)")
	_, err = a.Forward(0, q, k, randT(r, b, h, s-1, d), nil)
	expect("v length", err, "v has shape (2, 2, 7, 4), want k's shape (2, 2, 8, 4)")
	_, err = a.Forward(0, randT(r, b, h, s*d), k, v, nil)
	expect("rank", err, "q has shape (2, 2, 32)")
	_, err = a.Forward(0, nil, k, v, nil)
	expect("nil", err, "must all be non-nil")
	_, err = a.Forward(0, q, k, v, make([]bool, 3))
	expect("mask", err, "the key mask has 3 flags, want B·Tk = 2·8 = 16")
	// A failed Forward leaves nothing for Backward.
	_, _, _, err = a.Backward(0, q)
	expect("Backward after a failed Forward", err, "without a successful Forward")

	if _, err := a.Forward(0, q, k, v, nil); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = a.Backward(0, randT(r, b, h, s-1, d))
	expect("dout", err, "dout has shape (2, 2, 7, 4) and 112 elements, want the output's shape (2, 2, 8, 4)")
	_, _, _, err = a.Backward(0, nil)
	expect("nil dout", err, "dout is nil")
	_, _, _, err = a.Backward(1, q)
	expect("other layer", err, "Backward of layer 1 without")
}

// An encoder-decoder's three kinds of layers, each with its own mask and
// lengths: encoder self-attention (bidirectional), decoder self-attention
// (causal) and cross-attention (decoder queries, encoder keys).
func TestLayerSpecs(t *testing.T) {
	const b, h, d, src, tgt = 2, 2, 4, 12, 7
	sp := sdk.AttentionSpec{Layers: 3, Heads: h, KVHeads: h, HeadDim: d, MaxSeq: src, Batch: b, Seed: 1,
		LayerSpecs: []sdk.AttentionLayer{
			{Role: sdk.RoleSelf, Causal: false, MaxQ: src, MaxK: src},
			{Role: sdk.RoleSelf, Causal: true, MaxQ: tgt, MaxK: tgt},
			{Role: sdk.RoleCross, Causal: false, MaxQ: tgt, MaxK: src},
		}}
	a := mustInit(t, nil, sp)
	r := rng.New(9)
	for i, c := range []struct{ tq, tk int }{{src, src}, {tgt, tgt}, {tgt, src}} {
		ls := sp.Layer(i)
		q, k, v := randT(r, b, h, c.tq, d), randT(r, b, h, c.tk, d), randT(r, b, h, c.tk, d)
		opt := attention.Options{Causal: ls.Causal}
		want, att := tensor.New(b, h, c.tq, d), tensor.New(attention.CacheShape(b, h, c.tq, c.tk)...)
		if err := attention.FullForward(want, att, q, k, v, nil, opt); err != nil {
			t.Fatal(err)
		}
		out, err := a.Forward(i, q, k, v, nil)
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		identical(t, fmt.Sprintf("layer %d out", i), out, want)
	}
	// Each layer's lengths bound its own calls.
	_, err := a.Forward(1, randT(r, b, h, src, d), randT(r, b, h, src, d), randT(r, b, h, src, d), nil)
	if err == nil || !strings.Contains(err.Error(), "1 <= T <= 7") {
		t.Errorf("decoder layer with encoder length: %v", err)
	}

	bad := sp
	bad.LayerSpecs = sp.LayerSpecs[:2]
	if err := New().Init(nil, bad); err == nil || !strings.Contains(err.Error(), "2 layer specs for 3 layers") {
		t.Errorf("short LayerSpecs: %v", err)
	}
	bad.LayerSpecs = []sdk.AttentionLayer{sp.LayerSpecs[0], sp.LayerSpecs[1], {Role: sdk.RoleCross, Causal: true, MaxQ: tgt, MaxK: src}}
	if err := New().Init(nil, bad); err == nil || !strings.Contains(err.Error(), "layer 2 is cross-attention and cannot be causal") {
		t.Errorf("causal cross-attention: %v", err)
	}
}
