package blas

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
)

// BenchmarkMatMul measures C = A·B for square n×n matrices on T threads and
// reports GFLOP/s (2n³ flops per call). BenchmarkMatMulGonum runs gonum's
// Sgemm on the same shapes in the same run as the reference.
func BenchmarkMatMul(b *testing.B) {
	for _, n := range []int{256, 512, 1024, 2048} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, th), func(b *testing.B) {
				prev := parallel.SetThreads(th)
				defer parallel.SetThreads(prev)
				x := kerneltest.Rand(1, n*n, 1)
				y := kerneltest.Rand(2, n*n, 1)
				z := make([]float32, n*n)
				Gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
				b.ResetTimer()
				for b.Loop() {
					Gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func BenchmarkMatMulGonum(b *testing.B) {
	for _, n := range []int{256, 512, 1024, 2048} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/threads=%d", n, th), func(b *testing.B) {
				// gonum's Sgemm parallelises with GOMAXPROCS goroutines.
				b.SetParallelism(1)
				prev := setGOMAXPROCS(th)
				defer setGOMAXPROCS(prev)
				x := kerneltest.Rand(1, n*n, 1)
				y := kerneltest.Rand(2, n*n, 1)
				z := make([]float32, n*n)
				var impl gonum.Implementation
				for b.Loop() {
					impl.Sgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, x, n, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkLinearShapes runs the products of the reference model's linear
// layers (2048 tokens; c_attn 128→384, c_proj 128→128, fc 128→512, proj
// 512→128) on one thread, as LinearForward and LinearBackward call Gemm:
// fwd Y = X·Wᵀ, dx dX += dY·W, dw dW += dYᵀ·X. It reports GFLOP/s, to set
// against the micro-kernel's peak (BenchmarkFMAPeak). dw runs twice:
// binplace=true reads X in place, Gemm's choice (readsBInPlace), and
// binplace=false packs it, for comparison.
func BenchmarkLinearShapes(b *testing.B) {
	const n = 2048
	prev := parallel.SetThreads(1)
	defer parallel.SetThreads(prev)
	for _, s := range [][2]int{{128, 384}, {128, 128}, {128, 512}, {512, 128}} {
		in, out := s[0], s[1]
		x := kerneltest.Rand(1, n*in, 1)
		w := kerneltest.Rand(2, out*in, 1)
		y := kerneltest.Rand(3, n*out, 1)
		dx := make([]float32, n*in)
		dw := make([]float32, out*in)
		for _, pass := range []string{"fwd", "dx", "dw"} {
			modes := []string{""}
			if pass == "dw" {
				modes = []string{"/binplace=false", "/binplace=true"}
			}
			for _, mode := range modes {
				b.Run(fmt.Sprintf("in=%d/out=%d/pass=%s%s", in, out, pass, mode), func(b *testing.B) {
					defer func(v bool) { inPlaceBOK = v }(inPlaceBOK)
					inPlaceBOK = mode != "/binplace=false"
					run := func() {
						switch pass {
						case "fwd":
							Gemm(false, true, n, out, in, 1, x, in, w, in, 0, y, out)
						case "dx":
							Gemm(false, false, n, in, out, 1, y, out, w, in, 1, dx, in)
						case "dw":
							Gemm(true, false, out, in, n, 1, y, out, x, in, 1, dw, in)
						}
					}
					run()
					b.ResetTimer()
					for b.Loop() {
						run()
					}
					b.ReportMetric(2*float64(n*in*out)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
