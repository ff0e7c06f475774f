package bigbird

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

// layerSeed is the seed Init gives layer i's random blocks.
func layerSeed(seed uint64, i int) uint64 {
	return rng.New(seed).SplitName("bigbird").Split(uint64(i)).Uint64()
}

// The component gives what BigBirdForward and Backward give with the
// layer's seed, bit for bit, on fresh and reused buffers.
func TestMatchesKernels(t *testing.T) {
	const maxB, h, maxS, d = 3, 4, 100, 8
	for _, c := range []struct {
		b, kvh, t, block, random int
		causal, pad              bool
	}{
		{3, 4, 100, 8, 2, false, false},
		{3, 2, 100, 8, 3, true, true},
		{2, 1, 61, 6, 1, false, true}, // a short last block
		{1, 4, 100, 16, 0, true, false},
	} {
		t.Run(fmt.Sprintf("B=%d/KVH=%d/T=%d/block=%d/r=%d/causal=%v/pad=%v", c.b, c.kvh, c.t, c.block, c.random, c.causal, c.pad), func(t *testing.T) {
			r := rng.New(uint64(c.b*1000 + c.t*10 + c.block))
			q, k, v, dout := pt.RandT(r, c.b, h, c.t, d), pt.RandT(r, c.b, c.kvh, c.t, d), pt.RandT(r, c.b, c.kvh, c.t, d), pt.RandT(r, c.b, h, c.t, d)
			var mask []bool
			if c.pad {
				mask = pt.PadMask(c.b, c.t)
			}
			sp := pt.Spec(2, maxB, h, c.kvh, maxS, d, c.causal)
			opt := attention.BigBirdOptions{Options: attention.Options{Causal: c.causal}, Block: c.block, Random: c.random, Seed: layerSeed(sp.Seed, 1)}
			var want pt.Result
			want.Out = tensor.New(q.Shape...)
			lse := tensor.New(attention.LSEShape(c.b, h, c.t)...)
			if err := attention.BigBirdForward(want.Out, lse, q, k, v, mask, opt); err != nil {
				t.Fatal(err)
			}
			want.DQ, want.DK, want.DV = tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := attention.BigBirdBackward(want.DQ, want.DK, want.DV, dout, q, k, v, want.Out, lse, mask, opt); err != nil {
				t.Fatal(err)
			}
			a := pt.MustInit(t, New(), sdk.Config{"block": int64(c.block), "random_blocks": int64(c.random)}, sp)
			for range 2 {
				pt.Compare(t, "layer 1", pt.Run(t, a, 1, q, k, v, dout, mask), want, -1)
			}
		})
	}
}

// With every block attended (at most 4 blocks, which the 3 window and 2
// global ones cover, or enough random blocks) the component is full
// attention, within float32 rounding.
func TestEveryBlockEqualsFull(t *testing.T) {
	const b, h, d = 2, 2, 8
	for _, c := range []struct {
		t, block, random int
		causal           bool
	}{
		{36, 9, 0, false},  // 4 blocks
		{40, 11, 0, true},  // 4 blocks, the last one short, causal
		{45, 9, 1, false},  // 5 blocks and 1 random one
		{64, 4, 16, false}, // 16 blocks, every other one random
	} {
		r := rng.New(uint64(c.t + c.block))
		q, k, v, dout := pt.RandT(r, b, h, c.t, d), pt.RandT(r, b, h, c.t, d), pt.RandT(r, b, h, c.t, d), pt.RandT(r, b, h, c.t, d)
		mask := pt.PadMask(b, c.t)
		sp := pt.Spec(1, b, h, h, c.t, d, c.causal)
		got := pt.Run(t, pt.MustInit(t, New(), sdk.Config{"block": int64(c.block), "random_blocks": int64(c.random)}, sp), 0, q, k, v, dout, mask)
		want := pt.Run(t, pt.MustInit(t, full.New(), nil, sp), 0, q, k, v, dout, mask)
		pt.Compare(t, fmt.Sprintf("T=%d block=%d r=%d causal=%v", c.t, c.block, c.random, c.causal), got, want, 1e-5)
	}
}

// Layers draw their own random blocks, and the same seed gives the same.
func TestLayoutsFollowTheSeed(t *testing.T) {
	const b, h, s, d = 1, 2, 96, 8
	r := rng.New(3)
	q, k, v := pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d)
	cfg := sdk.Config{"block": int64(8), "random_blocks": int64(2)}
	out := func(seed uint64, layer int) *tensor.Tensor {
		sp := pt.Spec(2, b, h, h, s, d, false)
		sp.Seed = seed
		a := pt.MustInit(t, New(), cfg, sp)
		o, err := a.Forward(layer, q, k, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		return o.Clone()
	}
	pt.Identical(t, "same seed", out(5, 0), out(5, 0))
	differ := func(a, b *tensor.Tensor) bool {
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				return true
			}
		}
		return false
	}
	if !differ(out(5, 0), out(5, 1)) {
		t.Error("layers 0 and 1 have the same random blocks")
	}
	if !differ(out(5, 0), out(6, 0)) {
		t.Error("seeds 5 and 6 give the same random blocks")
	}
}

func TestAllocatesNothing(t *testing.T) {
	const b, h, s, d = 2, 2, 64, 8
	r := rng.New(5)
	a := pt.MustInit(t, New(), sdk.Config{"block": int64(8), "random_blocks": int64(2)}, pt.Spec(1, b, h, h, s, d, true))
	q, k, v, dout := pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d)
	mask := pt.PadMask(b, s)
	step := func() {
		if _, err := a.Forward(0, q, k, v, mask); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := a.Backward(0, dout); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("a warmed-up Forward+Backward allocated %v times", n)
	}
}

func TestDescribe(t *testing.T) {
	d := New().Describe()
	if d.Kind != sdk.KindAttention || d.Name != "bigbird" || !strings.Contains(d.Doc, "Zaheer") {
		t.Fatalf("Describe: %+v", d)
	}
	for _, c := range []string{"causal", "padding_mask", "kv_heads", sdk.Stateless} {
		if !d.Has(c) {
			t.Errorf("capabilities %v lack %q", d.Capabilities, c)
		}
	}
	if cfg, err := d.Resolve(nil); err != nil || cfg.Int("block") != 64 || cfg.Int("random_blocks") != 3 {
		t.Errorf("defaults %v, %v", cfg, err)
	}
}

func TestInitErrors(t *testing.T) {
	cross := sdk.AttentionSpec{Layers: 2, Heads: 2, KVHeads: 2, HeadDim: 4, MaxSeq: 16, Batch: 1,
		LayerSpecs: []sdk.AttentionLayer{{Role: sdk.RoleSelf, MaxQ: 16, MaxK: 16}, {Role: sdk.RoleCross, MaxQ: 8, MaxK: 16}}}
	short := sdk.AttentionSpec{Layers: 2, Heads: 2, KVHeads: 2, HeadDim: 4, MaxSeq: 16, Batch: 1,
		LayerSpecs: []sdk.AttentionLayer{{Role: sdk.RoleSelf, MaxQ: 16, MaxK: 16}, {Role: sdk.RoleSelf, Causal: true, MaxQ: 6, MaxK: 6}}}
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		sp   sdk.AttentionSpec
		want string
	}{
		{"block too long", sdk.Config{"block": int64(64)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `parameter "block" = 64 is longer than layer 0's sequence of 16 tokens: want 1 <= block <= 16`},
		{"block too long for one layer", sdk.Config{"block": int64(8)}, short, `parameter "block" = 8 is longer than layer 1's sequence of 6 tokens`},
		{"zero block", sdk.Config{"block": int64(0)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `"block": got 0, want at least 1`},
		{"negative random", sdk.Config{"block": int64(4), "random_blocks": int64(-1)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `"random_blocks": got -1, want at least 0`},
		{"cross-attention", sdk.Config{"block": int64(4)}, cross, "layer 1 is cross-attention with MaxQ = 8 and MaxK = 16, but block-sparse attention"},
		{"kv heads", sdk.Config{"block": int64(4)}, pt.Spec(1, 1, 4, 3, 16, 4, false), "KVHeads = 3 does not divide Heads = 4"},
	} {
		err := New().Init(c.cfg, c.sp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Init %s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestAsPluginProcess(t *testing.T) {
	pt.RoundTrip(t, New(), sdk.Config{"block": int64(4), "random_blocks": int64(2)}, pt.Spec(2, 2, 4, 2, 32, 8, true))
}
