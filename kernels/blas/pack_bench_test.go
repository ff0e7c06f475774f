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

// BenchmarkPackB packs the B blocks of the reference model's products:
// its backward's (trans=false: dX = dY·W with W (out, in), dW = dYᵀ·X with
// X (2048, in)) and its forward's (trans=true: Y = X·Wᵀ, W (out, in)).
func BenchmarkPackB(b *testing.B) {
	for _, trans := range []bool{false, true} {
		for _, s := range [][2]int{{384, 128}, {384, 512}, {128, 384}} {
			k, n := s[0], s[1]
			b.Run(fmt.Sprintf("trans=%v/k=%d/n=%d", trans, k, n), func(b *testing.B) {
				src := make([]float32, k*n)
				dst := make([]float32, k*n)
				ld := n
				if trans {
					ld = k
				}
				for b.Loop() {
					packB(dst, trans, src, ld, 0, k, 0, n, 32, 1)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k*n), "ns/elem")
			})
		}
	}
}
