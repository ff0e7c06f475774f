package linformer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	pt "github.com/attnlab/attnlab/plugins/attention/internal/plugintest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestMain(m *testing.M) { pt.Main(m, New) }

// cols returns the first tk columns of x (P, k, n).
func cols(x *tensor.Tensor, tk int) *tensor.Tensor {
	p, k, n := x.Shape[0], x.Shape[1], x.Shape[2]
	out := tensor.New(p, k, tk)
	for r := range p * k {
		copy(out.Data[r*tk:(r+1)*tk], x.Data[r*n:r*n+tk])
	}
	return out
}

// The component gives what LinformerForward and Backward give with its
// own E and F, bit for bit, for every sharing mode, for calls with n keys
// and fewer (the first Tk columns), and accumulates E's and F's gradients
// over layers and calls in call order.
func TestMatchesKernels(t *testing.T) {
	const maxB, h, n, d, k = 2, 4, 40, 8, 12
	for _, c := range []struct {
		sharing    string
		kvh, b, tk int
		pad        bool
	}{
		{"none", 2, 2, 40, false},
		{"headwise", 4, 2, 40, true},
		{"kv", 1, 1, 40, true},
		{"layerwise", 2, 2, 40, false},
		{"headwise", 2, 2, 25, true}, // fewer keys than n
		{"layerwise", 4, 1, 17, false},
	} {
		t.Run(fmt.Sprintf("%s/KVH=%d/B=%d/Tk=%d/pad=%v", c.sharing, c.kvh, c.b, c.tk, c.pad), func(t *testing.T) {
			r := rng.New(uint64(c.kvh*100 + c.tk))
			cfg := sdk.Config{"k": int64(k), "sharing": c.sharing}
			a := pt.MustInit(t, New(), cfg, pt.Spec(2, maxB, h, c.kvh, n, d, false)).(*component)
			var mask []bool
			if c.pad {
				mask = pt.PadMask(c.b, c.tk)
			}
			// Expected gradients of every parameter, accumulated like the component's.
			wantG := map[*param]*tensor.Tensor{}
			for _, p := range a.params {
				wantG[p] = tensor.New(p.g.Shape...)
			}
			for _, layer := range []int{1, 0, 1} {
				q, kk, v, dout := pt.RandT(r, c.b, h, c.tk, d), pt.RandT(r, c.b, c.kvh, c.tk, d), pt.RandT(r, c.b, c.kvh, c.tk, d), pt.RandT(r, c.b, h, c.tk, d)
				ll := a.lin[layer]
				e, f := cols(ll.e.v, c.tk), cols(ll.f.v, c.tk)
				if ll.f == ll.e {
					f = e
				}
				var want pt.Result
				want.Out = tensor.New(q.Shape...)
				kp, vp := tensor.New(c.b, c.kvh, k, d), tensor.New(c.b, c.kvh, k, d)
				att := tensor.New(attention.CacheShape(c.b, h, c.tk, k)...)
				if err := attention.LinformerForward(want.Out, kp, vp, att, q, kk, v, e, f, mask, attention.Options{}); err != nil {
					t.Fatal(err)
				}
				want.DQ, want.DK, want.DV = tensor.New(q.Shape...), tensor.New(kk.Shape...), tensor.New(v.Shape...)
				de, df := tensor.New(e.Shape...), tensor.New(f.Shape...)
				if ll.f == ll.e {
					df = de
				}
				if err := attention.LinformerBackward(want.DQ, want.DK, want.DV, de, df, dout, q, kk, v, e, f, kp, vp, att, mask, attention.Options{}); err != nil {
					t.Fatal(err)
				}
				addColumns(wantG[ll.e], de)
				if ll.f != ll.e {
					addColumns(wantG[ll.f], df)
				}
				pt.Compare(t, fmt.Sprintf("layer %d", layer), pt.Run(t, a, layer, q, kk, v, dout, mask), want, -1)
			}
			for _, p := range a.params {
				if c.tk == n {
					// The kernel accumulated straight into the gradient
					// (C += A·B in one GEMM), not through a fresh buffer.
					pt.Close(t, p.name+" gradient", p.g, wantG[p], 1e-6)
					continue
				}
				pt.Identical(t, p.name+" gradient", p.g, wantG[p])
			}
		})
	}
}

// With k = n and identity projections Linformer is full attention (no key
// mask: Linformer zeroes hidden keys instead of hiding them).
func TestIdentityEqualsFull(t *testing.T) {
	const b, h, kvh, n, d = 2, 4, 2, 24, 8
	sp := pt.Spec(1, b, h, kvh, n, d, false)
	a := pt.MustInit(t, New(), sdk.Config{"k": int64(n), "sharing": "kv"}, sp).(*component)
	e := a.lin[0].e.v
	clear(e.Data)
	for i := range n {
		e.Data[i*n+i] = 1
	}
	r := rng.New(4)
	q, k, v, dout := pt.RandT(r, b, h, n, d), pt.RandT(r, b, kvh, n, d), pt.RandT(r, b, kvh, n, d), pt.RandT(r, b, h, n, d)
	got := pt.Run(t, a, 0, q, k, v, dout, nil)
	want := pt.Run(t, pt.MustInit(t, full.New(), nil, sp), 0, q, k, v, dout, nil)
	pt.Compare(t, "identity projections", got, want, 1e-5)
}

// Step applies the optimiser to E and F, deterministically: two
// components from the same seed and inputs step to the same bits, SGD
// moves E by −lr·g exactly, and the gradients are cleared.
func TestStep(t *testing.T) {
	const b, h, n, d = 2, 2, 16, 4
	sp := pt.Spec(2, b, h, h, n, d, false)
	r := rng.New(5)
	q, k, v, dout := pt.RandT(r, b, h, n, d), pt.RandT(r, b, h, n, d), pt.RandT(r, b, h, n, d), pt.RandT(r, b, h, n, d)
	step := func(opt sdk.Optimizer) *component {
		sp := sp
		sp.Optimizer = opt
		a := pt.MustInit(t, New(), sdk.Config{"k": int64(6)}, sp).(*component)
		for l := range 2 {
			pt.Run(t, a, l, q, k, v, dout, nil)
		}
		return a
	}
	x, y := step(sdk.DefaultOptimizer()), step(sdk.DefaultOptimizer())
	before := x.params[0].v.Clone()
	nx, _ := x.GradNormSq()
	ny, _ := y.GradNormSq()
	if nx <= 0 || nx != ny {
		t.Fatalf("GradNormSq %v and %v, want equal and positive", nx, ny)
	}
	for _, a := range []*component{x, y} {
		if err := a.Step(sdk.StepArgs{Step: 0, LR: 1e-2, GradScale: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range x.params {
		pt.Identical(t, x.params[i].name+" after Step", x.params[i].v, y.params[i].v)
	}
	if before.Data[0] == x.params[0].v.Data[0] {
		t.Error("Step did not change E")
	}
	if n, _ := x.GradNormSq(); n != 0 {
		t.Errorf("GradNormSq after Step = %v, want 0", n)
	}

	s := step(sdk.Optimizer{Name: "sgd"})
	p := s.params[1]
	want := p.v.Clone()
	for i, g := range p.g.Data {
		want.Data[i] -= 0.5 * (2 * g)
	}
	if err := s.Step(sdk.StepArgs{LR: 0.5, GradScale: 2}); err != nil {
		t.Fatal(err)
	}
	pt.Close(t, "SGD step of "+p.name, p.v, want, 1e-6)

	for _, bad := range []sdk.StepArgs{{LR: -1, GradScale: 1}, {LR: 1, GradScale: 0}} {
		if err := x.Step(bad); err == nil {
			t.Errorf("Step(%+v) succeeded", bad)
		}
	}
	if err := New().Step(sdk.StepArgs{LR: 1, GradScale: 1}); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Step before Init: %v", err)
	}
}

func TestAllocatesNothing(t *testing.T) {
	const b, h, n, d = 2, 2, 32, 8
	r := rng.New(6)
	a := pt.MustInit(t, New(), sdk.Config{"k": int64(8)}, pt.Spec(1, b, h, h, n, d, false))
	q, k, v, dout := pt.RandT(r, b, h, n, d), pt.RandT(r, b, h, n, d), pt.RandT(r, b, h, n, d), pt.RandT(r, b, h, n, d)
	qs := pt.RandT(r, 1, h, 20, d)
	mask := pt.PadMask(b, n)
	fwdbwd := func() {
		if _, err := a.Forward(0, q, k, v, mask); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := a.Backward(0, dout); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Forward(0, qs, qs, qs, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := a.Backward(0, qs); err != nil {
			t.Fatal(err)
		}
		if err := a.Step(sdk.StepArgs{LR: 1e-3, GradScale: 1}); err != nil {
			t.Fatal(err)
		}
	}
	fwdbwd()
	if n := testing.AllocsPerRun(10, fwdbwd); n != 0 {
		t.Errorf("a warmed-up Forward+Backward+Step allocated %v times", n)
	}
}

func TestDescribe(t *testing.T) {
	d := New().Describe()
	if d.Kind != sdk.KindAttention || d.Name != "linformer" || !strings.Contains(d.Doc, "Wang") {
		t.Fatalf("Describe: %+v", d)
	}
	if !d.Has("padding_mask") || !d.Has("kv_heads") || d.Has("causal") || d.Has(sdk.Stateless) {
		t.Errorf("capabilities %v, want padding_mask and kv_heads, not causal, not stateless", d.Capabilities)
	}
	if cfg, err := d.Resolve(nil); err != nil || cfg.Int("k") != 128 || cfg.String("sharing") != "headwise" {
		t.Errorf("defaults %v, %v", cfg, err)
	}
}

func TestInitErrors(t *testing.T) {
	decoder := sdk.AttentionSpec{Layers: 2, Heads: 2, KVHeads: 2, HeadDim: 4, MaxSeq: 16, Batch: 1,
		LayerSpecs: []sdk.AttentionLayer{{Role: sdk.RoleSelf, MaxQ: 16, MaxK: 16}, {Role: sdk.RoleSelf, Causal: true, MaxQ: 16, MaxK: 16}}}
	cross := sdk.AttentionSpec{Layers: 2, Heads: 2, KVHeads: 2, HeadDim: 4, MaxSeq: 16, Batch: 1,
		LayerSpecs: []sdk.AttentionLayer{{Role: sdk.RoleSelf, MaxQ: 16, MaxK: 16}, {Role: sdk.RoleCross, MaxQ: 16, MaxK: 6}}}
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		sp   sdk.AttentionSpec
		want string
	}{
		{"causal", sdk.Config{"k": int64(4)}, pt.Spec(1, 1, 2, 2, 16, 4, true), "layer 0 is causal, but Linformer cannot do causal attention (Wang et al. 2020, §4"},
		{"causal decoder layer", sdk.Config{"k": int64(4)}, decoder, "layer 1 is causal, but Linformer cannot do causal attention"},
		{"k > n", sdk.Config{"k": int64(20)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `parameter "k" = 20 is larger than layer 0's key length n = 16 (MaxK): want 1 <= k <= 16`},
		{"k > a cross layer's n", sdk.Config{"k": int64(8)}, cross, `parameter "k" = 8 is larger than layer 1's key length n = 6`},
		{"zero k", sdk.Config{"k": int64(0)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `"k": got 0, want at least 1`},
		{"sharing", sdk.Config{"k": int64(4), "sharing": "all"}, pt.Spec(1, 1, 2, 2, 16, 4, false), `"sharing": got "all", want one of none, headwise, kv, layerwise`},
		{"kv heads", sdk.Config{"k": int64(4)}, pt.Spec(1, 1, 4, 3, 16, 4, false), "KVHeads = 3 does not divide Heads = 4"},
		{"optimizer", sdk.Config{"k": int64(4)}, func() sdk.AttentionSpec {
			s := pt.Spec(1, 1, 2, 2, 16, 4, false)
			s.Optimizer = sdk.Optimizer{Name: "lion"}
			return s
		}(), `optimizer "lion" is not supported`},
	} {
		err := New().Init(c.cfg, c.sp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Init %s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// A call shorter than k.
	a := pt.MustInit(t, New(), sdk.Config{"k": int64(8)}, pt.Spec(1, 1, 2, 2, 16, 4, false))
	x := pt.RandT(rng.New(1), 1, 2, 5, 4)
	if _, err := a.Forward(0, x, x, x, nil); err == nil || !strings.Contains(err.Error(), "5 keys are fewer than the k = 8 rows") {
		t.Errorf("Tk < k: %v", err)
	}
}

// Through a plugin process, with cross-attention and layerwise sharing,
// including GradNormSq and Step.
func TestAsPluginProcess(t *testing.T) {
	sp := sdk.AttentionSpec{Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 8, MaxSeq: 24, Batch: 2, Seed: 3,
		LayerSpecs: []sdk.AttentionLayer{{Role: sdk.RoleSelf, MaxQ: 24, MaxK: 24}, {Role: sdk.RoleCross, MaxQ: 10, MaxK: 24}}}
	pt.RoundTrip(t, New(), sdk.Config{"k": int64(6), "sharing": "layerwise"}, sp)
}
