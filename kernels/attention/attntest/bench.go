package attntest

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Footprint is implemented by variants that can say how many bytes their
// cache and workspaces hold; Bench reports it as the metric cache-MB, the
// memory a training step keeps for attention beyond its inputs, outputs and
// gradients.
type Footprint interface {
	Bytes() int
}

// BenchSeqs are the sequence lengths Bench measures by default.
var BenchSeqs = []int{256, 1024, 2048, 4096}

// Bench measures impl on batch 1, 8 heads (and as many key/value heads),
// head dim 64, without masks, as sub-benchmarks
// seq=S/threads=T/pass=fwd|fwdbwd over seqs (BenchSeqs if none), with
// the ms/op metric and, for a Footprint, cache-MB. Buffers are allocated
// and the variant warmed up before timing, as a training loop would.
func Bench(b *testing.B, impl Impl, seqs ...int) {
	BenchShape(b, impl, BenchDims{Batch: 1, Heads: 8, HeadDim: 64}, seqs...)
}

// BenchDims is the shape BenchShape measures at each sequence length.
// With Padded, sequence i of the batch is padded: a key mask hides all but
// its first (B+i)/(2B) tokens (half to nearly all, like byte-level texts
// padded to a fixed length); without it there is no mask.
type BenchDims struct {
	Batch, Heads, HeadDim int
	Padded                bool
}

// benchPadding returns the key mask BenchShape uses with Padded: B*T
// flags, sequence i keeping its first t·(B+i)/(2B) tokens.
func benchPadding(batch, t int) []bool {
	m := make([]bool, batch*t)
	for i := range batch {
		for k := range t * (batch + i) / (2 * batch) {
			m[i*t+k] = true
		}
	}
	return m
}

// BenchShape is Bench on another batch size, head count and head dim.
func BenchShape(b *testing.B, impl Impl, dims BenchDims, seqs ...int) {
	batch, heads, hd := dims.Batch, dims.Heads, dims.HeadDim
	if len(seqs) == 0 {
		seqs = BenchSeqs
	}
	for _, seq := range seqs {
		for _, th := range []int{1, 2} {
			for _, pass := range []string{"fwd", "fwdbwd"} {
				b.Run(fmt.Sprintf("seq=%d/threads=%d/pass=%s", seq, th, pass), func(b *testing.B) {
					prev := parallel.SetThreads(th)
					defer parallel.SetThreads(prev)
					q := randTensor(1, batch, heads, seq, hd)
					k, v := randTensor(2, batch, heads, seq, hd), randTensor(3, batch, heads, seq, hd)
					out := tensor.New(q.Shape...)
					dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
					var mask []bool
					if dims.Padded {
						mask = benchPadding(batch, seq)
					}
					run := func() {
						if err := impl.Forward(out, q, k, v, mask, false); err != nil {
							b.Fatal(err)
						}
						if pass == "fwdbwd" {
							if err := impl.Backward(dq, dk, dv, out); err != nil {
								b.Fatal(err)
							}
						}
					}
					run()
					b.ResetTimer()
					for b.Loop() {
						run()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
					if f, ok := impl.(Footprint); ok {
						b.ReportMetric(float64(f.Bytes())/(1<<20), "cache-MB")
					}
				})
			}
		}
	}
}
