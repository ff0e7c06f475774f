package transformer

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// The head-by-head projection (qkvheads.go) against LinearForward and the
// split: the same logits bit for bit, gradients equal to rounding, for
// plain, grouped (GQA) and rotary models whose head dimension lets it run.
func TestQKVHeadsMatchesProductAndSplit(t *testing.T) {
	_, nr, _ := blas.Panel()
	for _, c := range []struct {
		name string
		cfg  sdk.Config
	}{
		{"mha", sdk.Config{"layers": 2, "d_model": 4 * nr, "heads": 4}},
		{"gqa", sdk.Config{"layers": 2, "d_model": 4 * nr, "heads": 4, "kv_heads": 2, "positions": "rope"}},
		{"mqa", sdk.Config{"layers": 1, "d_model": 2 * nr, "heads": 2, "kv_heads": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			const b, tt, vocab = 3, 20, 40
			batch := randomBatch(rng.New(2), b, tt, vocab)
			run := func(off bool) (logits, grads []float32) {
				defer func(v bool) { qkvHeadsOff = v }(qkvHeadsOff)
				qkvHeadsOff = off
				m := build(t, c.cfg, tokensSpec(vocab, tt, b), sdk.DefaultOptimizer(), 1)
				if !off && !m.qkvHeadsOK() {
					t.Fatalf("head dim %d: the head-by-head projection does not run", m.hp.headDim)
				}
				out, err := m.Forward(batch, true)
				if err != nil {
					t.Fatal(err)
				}
				logits = slices.Clone(out.Data)
				_, dlogits := newCrossEntropy(b, tt, vocab).loss(t, out, batch)
				if err := m.Backward(dlogits); err != nil {
					t.Fatal(err)
				}
				for _, p := range m.params {
					grads = append(grads, p.g.Data...)
				}
				return logits, grads
			}
			l1, g1 := run(false)
			l0, g0 := run(true)
			sameBits(t, "logits", l1, l0)
			var scale float64
			for _, g := range g0 {
				scale = max(scale, math.Abs(float64(g)))
			}
			for i := range g0 {
				if d := math.Abs(float64(g1[i] - g0[i])); d > 1e-5*scale {
					t.Fatalf("gradient element %d: %v head by head, %v through the split (largest gradient %v)", i, g1[i], g0[i], scale)
				}
			}
		})
	}
}

// BenchmarkQKVHeads times training steps of the reference model (2
// layers, d_model 128, 4 heads, 256 tokens, batch 8) on one thread with
// the head-by-head projection and with the product and split, step for
// step alternately, so that a machine whose speed drifts slows both
// alike; it reports the median step of each and their ratio.
func BenchmarkQKVHeads(b *testing.B) {
	const bs, tt, vocab = 8, 256, 256
	defer parallel.SetThreads(parallel.SetThreads(1))
	cfg := sdk.Config{"layers": 2, "d_model": 128, "heads": 4}
	m := build(b, cfg, tokensSpec(vocab, tt, bs), sdk.DefaultOptimizer(), 1)
	if !m.qkvHeadsOK() {
		b.Skip("the head-by-head projection does not run with this kernel")
	}
	defer func(v bool) { qkvHeadsOff = v }(qkvHeadsOff)
	batch, ce := randomBatch(rng.New(2), bs, tt, vocab), newCrossEntropy(bs, tt, vocab)
	var on, off []float64
	for i := range b.N + 2 {
		for _, o := range []bool{false, true} {
			qkvHeadsOff = o
			start := time.Now()
			trainStep(b, m, ce, batch, i, 1e-4)
			ms := float64(time.Since(start).Microseconds()) / 1000
			if i < 2 {
				continue // warm-up
			}
			if o {
				off = append(off, ms)
			} else {
				on = append(on, ms)
			}
		}
	}
	med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
	b.ReportMetric(med(on), "heads-ms")
	b.ReportMetric(med(off), "split-ms")
	b.ReportMetric(med(on)/med(off), "ratio")
}
