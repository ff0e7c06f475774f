package longformer

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

// The component gives what SlidingWindowForward and Backward give, bit for
// bit, on fresh and reused buffers; a shorter call drops the global
// positions past its end.
func TestMatchesKernels(t *testing.T) {
	const maxB, h, maxS, d = 3, 4, 70, 8
	for _, c := range []struct {
		b, kvh, t, window, dil int
		global                 string
		causal, pad            bool
	}{
		{3, 4, 70, 8, 1, "0", false, false},
		{3, 2, 70, 8, 1, "0", true, true},
		{2, 1, 70, 6, 2, "0,35", false, true},
		{2, 4, 40, 5, 3, "", true, false},
		{1, 2, 20, 4, 1, "0,50", false, false}, // position 50 is past this call's end
	} {
		t.Run(fmt.Sprintf("B=%d/KVH=%d/T=%d/w=%d/dil=%d/global=%q/causal=%v/pad=%v", c.b, c.kvh, c.t, c.window, c.dil, c.global, c.causal, c.pad), func(t *testing.T) {
			r := rng.New(uint64(c.b*1000 + c.t*10 + c.window))
			q, k, v, dout := pt.RandT(r, c.b, h, c.t, d), pt.RandT(r, c.b, c.kvh, c.t, d), pt.RandT(r, c.b, c.kvh, c.t, d), pt.RandT(r, c.b, h, c.t, d)
			var mask []bool
			if c.pad {
				mask = pt.PadMask(c.b, c.t)
			}
			var global []int
			for _, g := range []int{0, 35, 50} {
				if strings.Contains(","+c.global+",", fmt.Sprintf(",%d,", g)) && g < c.t {
					global = append(global, g)
				}
			}
			opt := attention.WindowOptions{Options: attention.Options{Causal: c.causal}, Window: c.window, Dilation: c.dil, Global: global}
			want, lse := tensor.New(q.Shape...), tensor.New(attention.LSEShape(c.b, h, c.t)...)
			if err := attention.SlidingWindowForward(want, lse, q, k, v, mask, opt); err != nil {
				t.Fatal(err)
			}
			wdq, wdk, wdv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := attention.SlidingWindowBackward(wdq, wdk, wdv, dout, q, k, v, want, lse, mask, opt); err != nil {
				t.Fatal(err)
			}
			cfg := sdk.Config{"window": int64(c.window), "dilation": int64(c.dil), "global_tokens": c.global}
			a := mustInit(t, New(), cfg, spec(2, maxB, h, c.kvh, maxS, d, c.causal))
			for range 2 {
				got := run(t, a, 1, q, k, v, dout, mask)
				pt.Identical(t, "out", got.out, want)
				pt.Identical(t, "dq", got.dq, wdq)
				pt.Identical(t, "dk", got.dk, wdk)
				pt.Identical(t, "dv", got.dv, wdv)
			}
		})
	}
}

// A window covering the whole sequence is full attention (within float32
// rounding: the tiled engine sums in another order).
func TestWholeWindowEqualsFull(t *testing.T) {
	const b, h, s, d = 2, 2, 45, 8
	for _, causal := range []bool{false, true} {
		w := 2 * (s - 1) // reaches s-1 on each side
		if causal {
			w = s - 1
		}
		r := rng.New(11)
		q, k, v, dout := pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d)
		mask := pt.PadMask(b, s)
		sp := spec(1, b, h, h, s, d, causal)
		got := run(t, mustInit(t, New(), sdk.Config{"window": int64(w), "global_tokens": ""}, sp), 0, q, k, v, dout, mask)
		want := run(t, mustInit(t, full.New(), nil, sp), 0, q, k, v, dout, mask)
		for _, x := range []struct {
			what      string
			got, want *tensor.Tensor
		}{{"out", got.out, want.out}, {"dq", got.dq, want.dq}, {"dk", got.dk, want.dk}, {"dv", got.dv, want.dv}} {
			pt.Close(t, fmt.Sprintf("causal=%v %s", causal, x.what), x.got, x.want, 1e-5)
		}
	}
}

func TestAllocatesNothing(t *testing.T) {
	const b, h, s, d = 2, 2, 40, 8
	r := rng.New(5)
	a := mustInit(t, New(), sdk.Config{"window": int64(6), "global_tokens": "0,30"}, spec(1, b, h, h, s, d, true))
	q, k, v, dout := pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d)
	qs := pt.RandT(r, 1, h, 9, d)
	mask := pt.PadMask(b, s)
	step := func() {
		for _, x := range [][2]*tensor.Tensor{{q, dout}, {qs, qs}} {
			m := mask
			if x[0] == qs {
				m = nil
			}
			kk, vv := k, v
			if x[0] == qs {
				kk, vv = qs, qs
			}
			if _, err := a.Forward(0, x[0], kk, vv, m); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := a.Backward(0, x[1]); err != nil {
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
	if d.Kind != sdk.KindAttention || d.Name != "longformer" || !strings.Contains(d.Doc, "Beltagy") {
		t.Fatalf("Describe: %+v", d)
	}
	for _, c := range []string{"causal", "padding_mask", "kv_heads", sdk.Stateless} {
		if !d.Has(c) {
			t.Errorf("capabilities %v lack %q", d.Capabilities, c)
		}
	}
	cfg, err := d.Resolve(nil)
	if err != nil || cfg.Int("window") != 128 || cfg.Int("dilation") != 1 || cfg.String("global_tokens") != "0" {
		t.Errorf("defaults %v, %v", cfg, err)
	}
}

func TestInitErrors(t *testing.T) {
	cross := sdk.AttentionSpec{Layers: 2, Heads: 2, KVHeads: 2, HeadDim: 4, MaxSeq: 16, Batch: 1,
		LayerSpecs: []sdk.AttentionLayer{{Role: sdk.RoleSelf, MaxQ: 16, MaxK: 16}, {Role: sdk.RoleCross, MaxQ: 8, MaxK: 16}}}
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		sp   sdk.AttentionSpec
		want string
	}{
		{"window too wide", sdk.Config{"window": int64(40)}, spec(1, 1, 2, 2, 16, 4, false),
			`parameter "window" = 40 with dilation 1 reaches 20 positions on each side, beyond layer 0's 16 tokens (at most 15): want window <= 31`},
		{"causal window too wide", sdk.Config{"window": int64(16)}, spec(1, 1, 2, 2, 16, 4, true),
			`parameter "window" = 16 with dilation 1 reaches 16 positions back, beyond layer 0's 16 tokens (at most 15): want window <= 15`},
		{"dilation too wide", sdk.Config{"window": int64(4), "dilation": int64(8)}, spec(1, 1, 2, 2, 16, 4, false),
			`"window" = 4 with dilation 8 reaches 16 positions`},
		{"zero window", sdk.Config{"window": int64(0)}, spec(1, 1, 2, 2, 16, 4, false), `"window": got 0, want at least 1`},
		{"global outside", sdk.Config{"window": int64(4), "global_tokens": "0,16"}, spec(1, 1, 2, 2, 16, 4, false),
			`"global_tokens": position 16 is outside layer 0's sequence of at most 16 tokens`},
		{"global not a number", sdk.Config{"window": int64(4), "global_tokens": "0,cls"}, spec(1, 1, 2, 2, 16, 4, false),
			`"global_tokens" = "0,cls": "cls" is not a position`},
		{"global twice", sdk.Config{"window": int64(4), "global_tokens": "1,1"}, spec(1, 1, 2, 2, 16, 4, false), "position 1 appears twice"},
		{"cross-attention", sdk.Config{"window": int64(4)}, cross, "layer 1 is cross-attention with MaxQ = 8 and MaxK = 16, but sliding-window attention is defined on one sequence"},
		{"kv heads", sdk.Config{"window": int64(4)}, spec(1, 1, 4, 3, 16, 4, false), "KVHeads = 3 does not divide Heads = 4"},
	} {
		err := New().Init(c.cfg, c.sp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Init %s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestAsPluginProcess(t *testing.T) {
	pt.RoundTrip(t, New(), sdk.Config{"window": int64(6), "dilation": int64(2), "global_tokens": "0,7"}, spec(2, 2, 4, 2, 24, 8, true))
}
