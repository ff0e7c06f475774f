//go:build amd64 && !purego

package blas

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkFMAPeak measures this core's fused multiply-add throughput with
// independent register FMAs and no memory traffic: the ceiling against
// which BenchmarkMatMul and BenchmarkMicroKernel are read.
func BenchmarkFMAPeak(b *testing.B) {
	const iters = 1 << 16
	if cpu.X86.HasAVX512F {
		b.Run("isa=avx512", func(b *testing.B) {
			for b.Loop() {
				fmaPeakAVX512(iters)
			}
			b.ReportMetric(float64(iters)*24*32*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		b.Run("isa=avx2", func(b *testing.B) {
			for b.Loop() {
				fmaPeakAVX2(iters)
			}
			b.ReportMetric(float64(iters)*12*16*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
