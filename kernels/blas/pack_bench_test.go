package blas

import (
	"fmt"
	"testing"
)

func BenchmarkPackA(b *testing.B) {
	for _, s := range [][2]int{{2048, 128}, {2048, 512}} {
		m, k := s[0], s[1]
		b.Run(fmt.Sprintf("m=%d/k=%d", m, k), func(b *testing.B) {
			a := make([]float32, m*k)
			kb := min(k, 256)
			dst := make([]float32, (m+11)/12*12*kb)
			for b.Loop() {
				packA(dst, false, a, k, 0, m, 0, kb, 12, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m*kb), "ns/elem")
		})
	}
}

// BenchmarkPackB packs the B blocks of the reference model's backward
// products (dX = dY·W with W (out, in), dW = dYᵀ·X with X (2048, in)).
func BenchmarkPackB(b *testing.B) {
	for _, s := range [][2]int{{384, 128}, {384, 512}} {
		k, n := s[0], s[1]
		b.Run(fmt.Sprintf("k=%d/n=%d", k, n), func(b *testing.B) {
			src := make([]float32, k*n)
			dst := make([]float32, k*n)
			for b.Loop() {
				packB(dst, false, src, n, 0, k, 0, n, 32)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k*n), "ns/elem")
		})
	}
}
