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
