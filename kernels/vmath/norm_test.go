package vmath

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// The normalisation row kernels on every path against float64 references,
// at lengths around the 16-lane blocks (odd and even block counts, tails).
func TestNormRowKernels(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 15, 16, 17, 32, 47, 48, 64, 128, 200, 512} {
			t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
				x := kerneltest.Rand(1, n, 2)
				w := kerneltest.Rand(2, n, 1)
				b := kerneltest.Rand(3, n, 1)
				dy := kerneltest.Rand(4, n, 1)
				const m, s = 0.25, 1.5
				var sum, ssd, g, gn float64
				for i := range x {
					sum += float64(x[i])
					d := float64(x[i]) - m
					ssd += d * d
					a := float64(w[i]) * float64(dy[i])
					g += a
					gn += a * d * s
				}
				tol := kerneltest.Tol{Abs: 1e-4, Rel: 1e-5}
				kerneltest.Close(t, "Sum", []float32{Sum(x)}, []float32{float32(sum)}, tol)
				kerneltest.Close(t, "SumSqDev", []float32{SumSqDev(x, m)}, []float32{float32(ssd)}, tol)
				gg, ggn := NormGradSums(w, dy, x, m, s)
				kerneltest.Close(t, "NormGradSums g", []float32{gg}, []float32{float32(g)}, tol)
				kerneltest.Close(t, "NormGradSums gn", []float32{ggn}, []float32{float32(gn)}, tol)

				y, want := make([]float32, n), make([]float32, n)
				for _, bias := range [][]float32{b, nil} {
					NormApply(y, x, w, bias, m, s)
					for i := range x {
						v := (float64(x[i]) - m) * s * float64(w[i])
						if bias != nil {
							v += float64(bias[i])
						}
						want[i] = float32(v)
					}
					kerneltest.Close(t, fmt.Sprintf("NormApply bias=%v", bias != nil), y, want, kerneltest.Tol{Abs: 1e-6, Rel: 1e-6})
				}

				const gMean, gnMean = 0.125, -0.5
				dx, dw, db := kerneltest.Rand(5, n, 1), kerneltest.Rand(6, n, 1), kerneltest.Rand(7, n, 1)
				wdx, wdw, wdb := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range x {
					d, nn := float64(dy[i]), (float64(x[i])-m)*s
					wdw[i] = float32(float64(dw[i]) + nn*d)
					wdb[i] = float32(float64(db[i]) + d)
					wdx[i] = float32(float64(dx[i]) + (float64(w[i])*d-gMean-nn*gnMean)*s)
				}
				NormGradApply(dx, dw, db, w, dy, x, m, s, gMean, gnMean)
				tol = kerneltest.Tol{Abs: 1e-5, Rel: 1e-5}
				kerneltest.Close(t, "NormGradApply dx", dx, wdx, tol)
				kerneltest.Close(t, "NormGradApply dw", dw, wdw, tol)
				kerneltest.Close(t, "NormGradApply db", db, wdb, tol)
			})
		}
	})
}

func TestNormRowKernelsNoAllocs(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		kerneltest.NoAllocs(t, "norm row kernels", 10, func() {
			var x, y, w [40]float32
			_ = Sum(x[:]) + SumSqDev(x[:], 1)
			NormApply(y[:], x[:], w[:], nil, 0, 1)
			g, _ := NormGradSums(w[:], y[:], x[:], 0, 1)
			NormGradApply(y[:], w[:], x[:], w[:], y[:], x[:], 0, 1, g, 0)
		})
	})
}
