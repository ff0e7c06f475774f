package blas

import "testing"

// BenchmarkMicroKernel measures the register kernel alone on L1-resident
// panels: the ceiling the packed driver can approach.
func BenchmarkMicroKernel(b *testing.B) {
	ks := kernels
	if len(kernels) > 0 && kernels[0].half != nil {
		ks = append(ks[:len(ks):len(ks)], kernels[0].half)
	}
	for _, k := range ks {
		b.Run("kernel="+k.name, func(b *testing.B) {
			kb := 256
			a := make([]float32, k.mr*kb)
			bb := make([]float32, 2*k.nr*kb) // the half kernel steps 2·nr
			c := make([]float32, k.mr*k.nr)
			for b.Loop() {
				k.fn(kb, &a[0], 1, k.mr, &bb[0], k.bstep(), &c[0], k.nr, 1, nil)
			}
			b.ReportMetric(2*float64(k.mr*k.nr*kb)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
