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
