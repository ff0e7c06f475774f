package attention

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// BenchmarkAttention measures attention on batch 1, 8 heads, head dim 64,
// without a mask (every query sees every key, as in an encoder and as in
// the reference PyTorch measurement), reporting ms/op for the forward pass
// (pass=fwd) and for forward plus backward (pass=fwdbwd). Buffers are
// allocated and touched once before timing, as a training loop reuses them.
func BenchmarkAttention(b *testing.B) {
	const heads, hd = 8, 64
	for _, seq := range []int{256, 1024, 4096} {
		for _, th := range []int{1, 2} {
			for _, pass := range []string{"fwd", "fwdbwd"} {
				b.Run(fmt.Sprintf("variant=full/seq=%d/threads=%d/pass=%s", seq, th, pass), func(b *testing.B) {
					prev := parallel.SetThreads(th)
					defer parallel.SetThreads(prev)
					q, k, v := randT(1, 1, heads, seq, hd), randT(2, 1, heads, seq, hd), randT(3, 1, heads, seq, hd)
					out, att := tensor.New(q.Shape...), tensor.New(CacheShape(1, heads, seq, seq)...)
					dq, dk, dv := tensor.New(q.Shape...), tensor.New(k.Shape...), tensor.New(v.Shape...)
					opt := Options{}
					run := func() {
						if err := FullForward(out, att, q, k, v, nil, opt); err != nil {
							b.Fatal(err)
						}
						if pass == "fwdbwd" {
							if err := FullBackward(dq, dk, dv, out, q, k, v, att, nil, opt); err != nil {
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
				})
			}
		}
	}
}
