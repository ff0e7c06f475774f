package attention

import (
	"flag"
	"fmt"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/kernels/attention/attntest"
	"github.com/attnlab/attnlab/kernels/blas"
	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

var benchLong = flag.Bool("attention.long", false, "BenchmarkAttention also measures 8192 tokens (full attention then needs 2 GiB)")

// benchVariants are the variants BenchmarkAttention measures, with the
// settings the Long Range Arena comparison uses.
func benchVariants() []struct {
	name string
	impl attntest.Impl
} {
	return []struct {
		name string
		impl attntest.Impl
	}{
		{"full", &fullImpl{}},
		{"flash", &flashImpl{}},
		{"longformer", &windowImpl{window: 256, global: []int{0}}},
		{"bigbird", &bigbirdImpl{block: 64, random: 3}},
		{"linformer", &linformerImpl{kproj: 256}},
		{"performer", &performerImpl{m: 256, seed: 1}},
	}
}

// BenchmarkAttention measures every variant on batch 1, 8 heads, head dim
// 64, without a mask (every query sees every key, as in an encoder and as
// in the reference PyTorch measurement), at 256 to 4096 tokens (8192 with
// -attention.long), reporting ms/op for the forward pass (pass=fwd) and for
// forward plus backward (pass=fwdbwd), and cache-MB, what the variant keeps
// between the two (full attention's T×T probabilities, flash's
// log-sum-exps, Linformer's projections and probabilities). Buffers are
// allocated and touched once before timing, as a training loop reuses them.
func BenchmarkAttention(b *testing.B) {
	seqs := attntest.BenchSeqs
	if *benchLong {
		seqs = append(slices.Clone(seqs), 8192)
	}
	for _, v := range benchVariants() {
		b.Run("variant="+v.name, func(b *testing.B) { attntest.Bench(b, v.impl, seqs...) })
	}
}

// BenchmarkAttentionLRA measures every variant at the shape of
// configs/lra-efficiency.yaml's attention at its longest, where its
// targets are set: batch 4, 4 heads of 16, 4096 tokens, without a mask
// (mask=none) and with padded sequences (mask=padded, see
// attntest.BenchDims), as the config's byte-level texts are. At head dim
// 16 every product is short in one dimension, so the ranking can differ
// from BenchmarkAttention's (head dim 64).
func BenchmarkAttentionLRA(b *testing.B) {
	for _, v := range benchVariants() {
		for _, padded := range []bool{false, true} {
			mask := "none"
			if padded {
				mask = "padded"
			}
			b.Run("variant="+v.name+"/mask="+mask, func(b *testing.B) {
				attntest.BenchShape(b, v.impl, attntest.BenchDims{Batch: 4, Heads: 4, HeadDim: 16, Padded: padded}, 4096)
			})
		}
	}
}

// BenchmarkAttentionTrial measures full attention at the shape of the
// reference model's training step (harness BenchmarkTrialStep: batch 8,
// 4 heads of 32, 256 tokens, causal), one thread, and reports GFLOP/s of
// the causal products' useful work (the triangle, counted once: 2 products
// forward, 4 backward), against which the kernels' peak can be read.
func BenchmarkAttentionTrial(b *testing.B) {
	defer parallel.SetThreads(parallel.SetThreads(1))
	const bs, h, t, d = 8, 4, 256, 32
	q, k, v := randT(1, bs, h, t, d), randT(2, bs, h, t, d), randT(3, bs, h, t, d)
	out, att := tensor.New(bs, h, t, d), tensor.New(CacheShape(bs, h, t, t)...)
	dq, dk, dv, dout := tensor.New(bs, h, t, d), tensor.New(bs, h, t, d), tensor.New(bs, h, t, d), randT(4, bs, h, t, d)
	opt := Options{Causal: true}
	flop := 2 * float64(bs*h) * float64(t*(t+1)/2) * d // one product
	if err := FullForward(out, att, q, k, v, nil, opt); err != nil {
		b.Fatal(err)
	}
	b.Run("pass=fwd", func(b *testing.B) {
		for b.Loop() {
			FullForward(out, att, q, k, v, nil, opt)
		}
		b.ReportMetric(2*flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("pass=bwd", func(b *testing.B) {
		for b.Loop() {
			FullBackward(dq, dk, dv, dout, q, k, v, att, nil, opt)
		}
		b.ReportMetric(4*flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkAttentionUnfused is the reference for BenchmarkAttention,
// measured in the same run: the textbook computation a framework performs
// (scores = Q·Kᵀ with one Gemm per head, a row softmax, out = P·V with a
// second Gemm), on the same kernels and shapes, forward only.
func BenchmarkAttentionUnfused(b *testing.B) {
	const heads, hd = 8, 64
	for _, seq := range []int{256, 1024, 4096} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("variant=full/seq=%d/threads=%d/pass=fwd", seq, th), func(b *testing.B) {
				prev := parallel.SetThreads(th)
				defer parallel.SetThreads(prev)
				q, k, v := randT(1, 1, heads, seq, hd), randT(2, 1, heads, seq, hd), randT(3, 1, heads, seq, hd)
				out := tensor.New(q.Shape...)
				p := make([]float32, heads*seq*seq)
				scale := float32(0.125)
				run := func() {
					n := seq * hd
					blas.GemmStrided(false, true, heads, seq, seq, hd, scale, q.Data, hd, n, k.Data, hd, n, 0, p, seq, seq*seq)
					for r := 0; r < heads*seq; r++ {
						row := p[r*seq : (r+1)*seq]
						s := vmath.ExpSubSum(row, row, vmath.Max(row))
						vmath.Scale(row, 1/s)
					}
					blas.GemmStrided(false, false, heads, seq, hd, seq, 1, p, seq, seq*seq, v.Data, hd, n, 0, out.Data, hd, n)
				}
				run()
				b.ResetTimer()
				for b.Loop() {
					run()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
			})
		}
	}
}
