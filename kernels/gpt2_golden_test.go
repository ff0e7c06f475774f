package kernels_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/golden"
	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
)

// TestGPT2BlockMatchesPyTorch runs one pre-LN GPT-2 block, the final
// layernorm, the LM head and the loss, and compares the output, the loss,
// dx and every parameter gradient with PyTorch 1.13 (gpt2_block.json,
// kernels/testdata/gen_golden.py). Tolerances are those of float32
// arithmetic through a dozen kernels in a different summation order.
func TestGPT2BlockMatchesPyTorch(t *testing.T) {
	g := golden.Load(t, "gpt2_block")
	b, tt, c, h, v := int(g.Attr("B")), int(g.Attr("T")), int(g.Attr("C")), int(g.Attr("H")), int(g.Attr("V"))
	m := newGPT2(b, tt, c, h, v, 1, false, rng.New(1))
	bl := m.blocks[0]
	load := map[string]*param{
		"ln1_weight": bl.ln1W, "ln1_bias": bl.ln1B, "qkv_weight": bl.qkvW, "qkv_bias": bl.qkvB,
		"attproj_weight": bl.projW, "attproj_bias": bl.projB, "ln2_weight": bl.ln2W, "ln2_bias": bl.ln2B,
		"fc_weight": bl.fcW, "fc_bias": bl.fcB, "fcproj_weight": bl.fcprojW, "fcproj_bias": bl.fcprojB,
		"lnf_weight": m.lnfW, "lnf_bias": m.lnfB, "lm_head_weight": m.head,
	}
	for name, p := range load {
		copy(p.v.Data, g.T(name).Data)
	}
	copy(m.x.Data, g.T("x").Data)
	copy(m.targets, g.Ints("targets"))

	loss := m.forward()
	m.backward()

	tol := kerneltest.Tol{Abs: 2e-6, Rel: 2e-5}
	kerneltest.Close(t, "block_out", bl.out.Data, g.T("block_out").Data, tol)
	kerneltest.Close(t, "logits", m.logits.Data, g.T("logits").Data, tol)
	kerneltest.Close(t, "loss", []float32{loss}, g.T("loss").Data, tol)
	kerneltest.Close(t, "dx", m.dx.Data, g.T("dx").Data, tol)
	kerneltest.Close(t, "dlogits", m.dlog.Data, g.T("dlogits").Data, tol)
	for name, p := range load {
		kerneltest.Close(t, "d"+name, p.g.Data, g.T("d"+name).Data, tol)
	}
}

// tinyGPT is the reference model of the performance figures: 2 layers,
// d_model 128, 4 heads, sequence 256, batch 8, byte vocabulary.
func tinyGPT() *gpt2 {
	m := newGPT2(8, 256, 128, 4, 256, 2, true, rng.New(7))
	r := rng.New(8)
	for i := range m.ids {
		m.ids[i] = int32(r.Intn(256))
		m.targets[i] = int32(r.Intn(256))
	}
	return m
}

// One training step (forward, backward, clipping, AdamW) allocates nothing
// once warmed up, and the loss goes down over a few steps on fixed data.
func TestTrainingStepAllocatesNothingAndLearns(t *testing.T) {
	m := newGPT2(2, 64, 64, 4, 256, 2, true, rng.New(7))
	r := rng.New(8)
	for i := range m.ids {
		m.ids[i] = int32(r.Intn(256))
		m.targets[i] = m.ids[i]
	}
	opt, ps := m.optimiser()
	var first, last float32
	step := func() {
		for _, p := range ps {
			p.Grad.Zero()
		}
		last = m.forward()
		m.backward()
		optimClip(ps)
		if err := opt.Step(3e-3); err != nil {
			t.Fatal(err)
		}
	}
	step()
	first = last
	kerneltest.NoAllocs(t, "a training step", 5, step)
	for range 20 {
		step()
	}
	if !(last < first*0.7) || math.IsNaN(float64(last)) {
		t.Errorf("loss did not fall: first %v, after 26 steps %v", first, last)
	}
}

// Same model, same data: identical losses and weights for 1 and 2 threads.
func TestTrainingDeterministicAcrossThreads(t *testing.T) {
	run := func(threads int) []float32 {
		prev := parallel.SetThreads(threads)
		defer parallel.SetThreads(prev)
		m := newGPT2(2, 40, 48, 3, 256, 2, true, rng.New(3))
		r := rng.New(4)
		for i := range m.ids {
			m.ids[i], m.targets[i] = int32(r.Intn(256)), int32(r.Intn(256))
		}
		opt, ps := m.optimiser()
		var losses []float32
		for range 3 {
			for _, p := range ps {
				p.Grad.Zero()
			}
			losses = append(losses, m.forward())
			m.backward()
			if err := opt.Step(1e-3); err != nil {
				t.Fatal(err)
			}
		}
		return append(losses, m.head.v.Data...)
	}
	one := run(1)
	kerneltest.Identical(t, fmt.Sprint("threads=2 vs 1"), run(2), one)
}

// BenchmarkTrainStep times one training step of the reference tiny GPT on
// the kernels alone (no plugin boundary): the floor under the harness's
// BenchmarkTrialStep. PyTorch 1.13's step on the same model is the
// external reference (see README).
func BenchmarkTrainStep(b *testing.B) {
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("model=tiny-gpt/threads=%d", th), func(b *testing.B) {
			prev := parallel.SetThreads(th)
			defer parallel.SetThreads(prev)
			m := tinyGPT()
			opt, ps := m.optimiser()
			step := func() {
				for _, p := range ps {
					p.Grad.Zero()
				}
				m.forward()
				m.backward()
				optimClip(ps)
				if err := opt.Step(1e-4); err != nil {
					b.Fatal(err)
				}
			}
			step()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
		})
	}
}
