package flash

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

func spec(layers, b, h, kvh, s, d int, causal bool) sdk.AttentionSpec {
	return sdk.AttentionSpec{Layers: layers, Heads: h, KVHeads: kvh, HeadDim: d, MaxSeq: s, Batch: b, Causal: causal, Seed: 1}
}

func mustInit(t *testing.T, a sdk.Attention, cfg sdk.Config, sp sdk.AttentionSpec) sdk.Attention {
	t.Helper()
	if err := a.Init(cfg, sp); err != nil {
		t.Fatal(err)
	}
	return a
}

type fwdbwd struct{ out, dq, dk, dv *tensor.Tensor }

func run(t *testing.T, a sdk.Attention, layer int, q, k, v, dout *tensor.Tensor, mask []bool) fwdbwd {
	t.Helper()
	out, err := a.Forward(layer, q, k, v, mask)
	if err != nil {
		t.Fatal(err)
	}
	out = out.Clone()
	dq, dk, dv, err := a.Backward(layer, dout)
	if err != nil {
		t.Fatal(err)
	}
	return fwdbwd{out, dq.Clone(), dk.Clone(), dv.Clone()}
}

var cases = []struct {
	b, kvh, tq, tk int
	causal, pad    bool
	scale          float64
}{
	{3, 2, 40, 40, true, false, 0},
	{3, 2, 40, 40, false, true, 0},
	{2, 2, 7, 7, true, true, 0}, // shorter than the spec
	{1, 2, 5, 33, true, false, 0},
	{2, 1, 33, 33, false, true, 0.5}, // MQA
	{3, 2, 130, 130, true, true, 0},  // several key tiles
}

// The component gives what the kernels give, bit for bit, on fresh and
// reused buffers, and equals full attention (the full component) within
// 1e-5 relative error, forward and backward.
func TestMatchesKernelsAndFull(t *testing.T) {
	const maxB, h, maxS, d = 3, 4, 130, 8
	for _, c := range cases {
		t.Run(fmt.Sprintf("B=%d/KVH=%d/Tq=%d/Tk=%d/causal=%v/pad=%v/scale=%v", c.b, c.kvh, c.tq, c.tk, c.causal, c.pad, c.scale), func(t *testing.T) {
			r := rng.New(uint64(c.b*1000 + c.tq*10 + c.tk))
			q, k, v, dout := pt.RandT(r, c.b, h, c.tq, d), pt.RandT(r, c.b, c.kvh, c.tk, d), pt.RandT(r, c.b, c.kvh, c.tk, d), pt.RandT(r, c.b, h, c.tq, d)
			var mask []bool
			if c.pad {
				mask = pt.PadMask(c.b, c.tk)
			}
			opt := attention.Options{Causal: c.causal, Scale: float32(c.scale)}
			want, lse := tensor.New(q.Shape...), tensor.New(attention.LSEShape(c.b, h, c.tq)...)
			if err := attention.FlashForward(want, lse, q, k, v, mask, opt); err != nil {
				t.Fatal(err)
			}
			wdq, wdk, wdv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := attention.FlashBackward(wdq, wdk, wdv, dout, q, k, v, want, lse, mask, opt); err != nil {
				t.Fatal(err)
			}
			cfg := sdk.Config{"scale": c.scale}
			sp := spec(2, maxB, h, c.kvh, maxS, d, c.causal)
			a := mustInit(t, New(), cfg, sp)
			for range 2 {
				got := run(t, a, 1, q, k, v, dout, mask)
				pt.Identical(t, "out", got.out, want)
				pt.Identical(t, "dq", got.dq, wdq)
				pt.Identical(t, "dk", got.dk, wdk)
				pt.Identical(t, "dv", got.dv, wdv)
			}
			ref := run(t, mustInit(t, full.New(), cfg, sp), 1, q, k, v, dout, mask)
			got := run(t, a, 1, q, k, v, dout, mask)
			pt.Close(t, "out against full", got.out, ref.out, 1e-5)
			pt.Close(t, "dq against full", got.dq, ref.dq, 1e-5)
			pt.Close(t, "dk against full", got.dk, ref.dk, 1e-5)
			pt.Close(t, "dv against full", got.dv, ref.dv, 1e-5)
		})
	}
}

// An encoder-decoder's layers: bidirectional, causal and cross-attention.
func TestLayerSpecs(t *testing.T) {
	const b, h, d, src, tgt = 2, 2, 4, 12, 7
	sp := sdk.AttentionSpec{Layers: 3, Heads: h, KVHeads: h, HeadDim: d, MaxSeq: src, Batch: b, Seed: 1,
		LayerSpecs: []sdk.AttentionLayer{
			{Role: sdk.RoleSelf, MaxQ: src, MaxK: src},
			{Role: sdk.RoleSelf, Causal: true, MaxQ: tgt, MaxK: tgt},
			{Role: sdk.RoleCross, MaxQ: tgt, MaxK: src},
		}}
	a, ref := mustInit(t, New(), nil, sp), mustInit(t, full.New(), nil, sp)
	r := rng.New(9)
	for i := range sp.Layers {
		ls := sp.Layer(i)
		q, k, v, dout := pt.RandT(r, b, h, ls.MaxQ, d), pt.RandT(r, b, h, ls.MaxK, d), pt.RandT(r, b, h, ls.MaxK, d), pt.RandT(r, b, h, ls.MaxQ, d)
		got, want := run(t, a, i, q, k, v, dout, nil), run(t, ref, i, q, k, v, dout, nil)
		pt.Close(t, fmt.Sprintf("layer %d out", i), got.out, want.out, 1e-5)
		pt.Close(t, fmt.Sprintf("layer %d dk", i), got.dk, want.dk, 1e-5)
	}
}

func TestAllocatesNothing(t *testing.T) {
	const b, h, kvh, s, d = 2, 4, 2, 40, 8
	r := rng.New(5)
	a := mustInit(t, New(), nil, spec(2, b, h, kvh, s, d, true))
	q, k, v, dout := pt.RandT(r, b, h, s, d), pt.RandT(r, b, kvh, s, d), pt.RandT(r, b, kvh, s, d), pt.RandT(r, b, h, s, d)
	qs, ks, vs, douts := pt.RandT(r, 1, h, 9, d), pt.RandT(r, 1, kvh, 9, d), pt.RandT(r, 1, kvh, 9, d), pt.RandT(r, 1, h, 9, d)
	mask := pt.PadMask(b, s)
	step := func() {
		for l := range 2 {
			if _, err := a.Forward(l, q, k, v, mask); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := a.Backward(l, dout); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Forward(l, qs, ks, vs, nil); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := a.Backward(l, douts); err != nil {
				t.Fatal(err)
			}
		}
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("a warmed-up Forward+Backward allocated %v times", n)
	}
}

func TestDescribe(t *testing.T) {
	d := New().Describe()
	if d.Kind != sdk.KindAttention || d.Name != "flash" || d.Version == "" || !strings.Contains(d.Doc, "Dao") {
		t.Fatalf("Describe: %+v", d)
	}
	for _, c := range []string{"causal", "padding_mask", "kv_heads", sdk.Stateless} {
		if !d.Has(c) {
			t.Errorf("capabilities %v lack %q", d.Capabilities, c)
		}
	}
	if _, err := d.Resolve(nil); err != nil {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		sp   sdk.AttentionSpec
		want string
	}{
		{"kv heads", nil, spec(1, 1, 4, 3, 8, 4, true), "KVHeads = 3 does not divide Heads = 4"},
		{"no layers", nil, spec(0, 1, 4, 4, 8, 4, true), "spec.Layers = 0"},
		{"negative scale", sdk.Config{"scale": -1.0}, spec(1, 1, 4, 4, 8, 4, true), `"scale"`},
		{"causal cross", nil, sdk.AttentionSpec{Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 4, MaxSeq: 8, Batch: 1,
			LayerSpecs: []sdk.AttentionLayer{{Role: sdk.RoleCross, Causal: true, MaxQ: 4, MaxK: 8}}}, "cannot be causal"},
	} {
		if err := New().Init(c.cfg, c.sp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Init %s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	r := rng.New(6)
	a := New()
	q := pt.RandT(r, 1, 2, 8, 4)
	if _, err := a.Forward(0, q, q, q, nil); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Forward before Init: %v", err)
	}
	mustInit(t, a, nil, spec(1, 1, 2, 2, 8, 4, true))
	for what, want := range map[string]string{
		"layer":  "layer 1 is out of range [0, 1)",
		"mask":   "the key mask has 3 flags, want B·Tk = 1·8 = 8",
		"long":   "q has shape (1, 2, 9, 4)",
		"before": "Backward of layer 0 without a successful Forward",
	} {
		var err error
		switch what {
		case "layer":
			_, err = a.Forward(1, q, q, q, nil)
		case "mask":
			_, err = a.Forward(0, q, q, q, make([]bool, 3))
		case "long":
			x := pt.RandT(r, 1, 2, 9, 4)
			_, err = a.Forward(0, x, x, x, nil)
		case "before":
			_, _, _, err = a.Backward(0, q)
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), `attention "flash": `) {
			t.Errorf("%s: error %v, want it to contain %q", what, err, want)
		}
	}
}

// As a plugin process the component answers exactly as in-process, with
// grouped heads and an encoder-decoder's three kinds of layers.
func TestAsPluginProcess(t *testing.T) {
	sp := sdk.AttentionSpec{Layers: 3, Heads: 4, KVHeads: 2, HeadDim: 8, MaxSeq: 20, Batch: 2, Seed: 1,
		LayerSpecs: []sdk.AttentionLayer{
			{Role: sdk.RoleSelf, MaxQ: 20, MaxK: 20},
			{Role: sdk.RoleSelf, Causal: true, MaxQ: 9, MaxK: 9},
			{Role: sdk.RoleCross, MaxQ: 9, MaxK: 20},
		}}
	pt.RoundTrip(t, New(), nil, sp)
}
