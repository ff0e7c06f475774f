package performer

import (
	"fmt"
	"math"
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

// features returns layer i's features of draw d for seed.
func features(seed uint64, i, d, m, dim int) *tensor.Tensor {
	w := tensor.New(m, dim)
	if err := attention.PerformerFeatures(w, rng.New(seed).SplitName("performer").Split(uint64(i)).Split(uint64(d)).Uint64()); err != nil {
		panic(err)
	}
	return w
}

// The component gives what PerformerForward and Backward give with the
// layer's features, bit for bit, on fresh and reused buffers.
func TestMatchesKernels(t *testing.T) {
	const maxB, h, maxS, d, m = 3, 4, 50, 8, 16
	for _, c := range []struct {
		b, kvh, tq, tk int
		causal, pad    bool
	}{
		{3, 4, 50, 50, false, false},
		{3, 2, 50, 50, true, true},
		{2, 1, 20, 20, true, false},
		{1, 4, 9, 31, false, true}, // cross-attention shapes
	} {
		t.Run(fmt.Sprintf("B=%d/KVH=%d/Tq=%d/Tk=%d/causal=%v/pad=%v", c.b, c.kvh, c.tq, c.tk, c.causal, c.pad), func(t *testing.T) {
			r := rng.New(uint64(c.b*1000 + c.tq*10 + c.tk))
			q, k, v, dout := pt.RandT(r, c.b, h, c.tq, d), pt.RandT(r, c.b, c.kvh, c.tk, d), pt.RandT(r, c.b, c.kvh, c.tk, d), pt.RandT(r, c.b, h, c.tq, d)
			var mask []bool
			if c.pad {
				mask = pt.PadMask(c.b, c.tk)
			}
			sp := pt.Spec(2, maxB, h, c.kvh, maxS, d, c.causal)
			w := features(sp.Seed, 1, 0, m, d)
			opt := attention.Options{Causal: c.causal}
			var want pt.Result
			want.Out = tensor.New(q.Shape...)
			if err := attention.PerformerForward(want.Out, q, k, v, w, mask, opt); err != nil {
				t.Fatal(err)
			}
			want.DQ, want.DK, want.DV = tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
			if err := attention.PerformerBackward(want.DQ, want.DK, want.DV, dout, q, k, v, w, want.Out, mask, opt); err != nil {
				t.Fatal(err)
			}
			a := pt.MustInit(t, New(), sdk.Config{"features": int64(m)}, sp)
			for range 2 {
				pt.Compare(t, "layer 1", pt.Run(t, a, 1, q, k, v, dout, mask), want, -1)
			}
		})
	}
}

// The mean error against exact softmax attention (the full component)
// falls as the number of features grows.
func TestErrorFallsWithFeatures(t *testing.T) {
	const b, h, s, d = 2, 2, 64, 16
	r := rng.New(12)
	q, k, v := pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d), pt.RandT(r, b, h, s, d)
	for _, x := range []*tensor.Tensor{q, k} {
		for i := range x.Data {
			x.Data[i] *= 0.5 // moderate scores, as trained models have
		}
	}
	sp := pt.Spec(1, b, h, h, s, d, false)
	exact, err := pt.MustInit(t, full.New(), nil, sp).Forward(0, q, k, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := math.Inf(1)
	for _, m := range []int{16, 64, 256} {
		var sum float64
		const seeds = 4
		for seed := range uint64(seeds) {
			sp.Seed = seed
			out, err := pt.MustInit(t, New(), sdk.Config{"features": int64(m)}, sp).Forward(0, q, k, v, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range out.Data {
				sum += math.Abs(float64(out.Data[i] - exact.Data[i]))
			}
		}
		mean := sum / float64(seeds*len(exact.Data))
		t.Logf("m = %d: mean absolute error %.4f", m, mean)
		if !(mean < prev) {
			t.Errorf("m = %d: mean error %.4f did not fall below %.4f", m, mean, prev)
		}
		prev = mean
	}
}

// Step redraws every redraw steps, from a stream keyed by the step:
// components stepped alike agree, the features change only at interval
// boundaries, and redraw = 0 never changes them.
func TestRedraw(t *testing.T) {
	const h, s, d, m = 2, 12, 8, 8
	sp := pt.Spec(2, 1, h, h, s, d, true)
	a := pt.MustInit(t, New(), sdk.Config{"features": int64(m), "redraw": int64(3)}, sp).(*component)
	never := pt.MustInit(t, New(), sdk.Config{"features": int64(m)}, sp).(*component)
	for step := range 7 {
		for l := range 2 {
			pt.Identical(t, fmt.Sprintf("step %d layer %d", step, l), a.w[l], features(sp.Seed, l, step/3, m, d))
			pt.Identical(t, fmt.Sprintf("redraw 0: step %d layer %d", step, l), never.w[l], features(sp.Seed, l, 0, m, d))
		}
		for _, x := range []*component{a, never} {
			if err := x.Step(sdk.StepArgs{Step: step, LR: 1, GradScale: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A fresh component stepped straight to step 5 has step 6's features.
	b := pt.MustInit(t, New(), sdk.Config{"features": int64(m), "redraw": int64(3)}, sp).(*component)
	if err := b.Step(sdk.StepArgs{Step: 5, LR: 1, GradScale: 1}); err != nil {
		t.Fatal(err)
	}
	pt.Identical(t, "after a jump to step 5", b.w[1], a.w[1])
	if n, err := a.GradNormSq(); n != 0 || err != nil {
		t.Errorf("GradNormSq = %v, %v", n, err)
	}
}

func TestAllocatesNothing(t *testing.T) {
	const b, h, kvh, s, d = 2, 4, 2, 40, 8
	r := rng.New(5)
	a := pt.MustInit(t, New(), sdk.Config{"features": int64(32)}, pt.Spec(1, b, h, kvh, s, d, true))
	q, k, v, dout := pt.RandT(r, b, h, s, d), pt.RandT(r, b, kvh, s, d), pt.RandT(r, b, kvh, s, d), pt.RandT(r, b, h, s, d)
	mask := pt.PadMask(b, s)
	step := func() {
		if _, err := a.Forward(0, q, k, v, mask); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := a.Backward(0, dout); err != nil {
			t.Fatal(err)
		}
		if err := a.Step(sdk.StepArgs{LR: 1, GradScale: 1}); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := testing.AllocsPerRun(10, step); n != 0 {
		t.Errorf("a warmed-up Forward+Backward+Step allocated %v times", n)
	}
}

func TestDescribe(t *testing.T) {
	d := New().Describe()
	if d.Kind != sdk.KindAttention || d.Name != "performer" || !strings.Contains(d.Doc, "Choromanski") {
		t.Fatalf("Describe: %+v", d)
	}
	if !d.Has("causal") || !d.Has("padding_mask") || !d.Has("kv_heads") || d.Has(sdk.Stateless) {
		t.Errorf("capabilities %v, want causal, padding_mask, kv_heads and not stateless (Step redraws)", d.Capabilities)
	}
	if cfg, err := d.Resolve(nil); err != nil || cfg.Int("features") != 256 || cfg.Int("redraw") != 0 {
		t.Errorf("defaults %v, %v", cfg, err)
	}
}

func TestInitErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		sp   sdk.AttentionSpec
		want string
	}{
		{"no features", sdk.Config{"features": int64(0)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `"features": got 0, want at least 1`},
		{"negative redraw", sdk.Config{"redraw": int64(-2)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `"redraw": got -2, want at least 0`},
		{"inf scale", sdk.Config{"scale": math.Inf(1)}, pt.Spec(1, 1, 2, 2, 16, 4, false), `"scale" = +Inf`},
		{"kv heads", nil, pt.Spec(1, 1, 4, 3, 16, 4, false), "KVHeads = 3 does not divide Heads = 4"},
	} {
		err := New().Init(c.cfg, c.sp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Init %s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	if err := New().Step(sdk.StepArgs{}); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Step before Init: %v", err)
	}
}

// Through a plugin process, with a redraw at the first Step.
func TestAsPluginProcess(t *testing.T) {
	pt.RoundTrip(t, New(), sdk.Config{"features": int64(16), "redraw": int64(1)}, pt.Spec(2, 2, 4, 2, 24, 8, true))
}
