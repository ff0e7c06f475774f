package blas

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

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
				k.fn(kb, &a[0], 1, k.mr, &bb[0], k.bstep(), k.bstep()*kb, &c[0], k.nr, 1, nil, 1, 1, 0)
			}
			b.ReportMetric(2*float64(k.mr*k.nr*kb)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// A kernel call over mt rows of np tiles must equal mt·np calls of one
// tile each, bit for bit, in every store mode (0 store, 1 add, 2 store
// plus bias), with B packed (panels one after another) and read in place
// (steps ldb apart, panels nr apart), and A packed (rows of tiles mr·k
// apart) and read in place (row-major, rows lda apart), for every kernel
// including the half-width one; and the sums must be right.
func TestMicroKernelTiles(t *testing.T) {
	ks := kernels
	if len(kernels) > 0 && kernels[0].half != nil {
		ks = append(ks[:len(ks):len(ks)], kernels[0].half)
	}
	for _, k := range ks {
		const mt, np, kb = 2, 3, 37
		mr, nr := k.mr, k.nr
		for _, inPlace := range []bool{false, true} {
			ldb, bnext := k.bstep(), k.bstep()*kb
			rs, cs, anext := 1, mr, mr*kb // packed A
			if inPlace {
				ldb, bnext = np*nr+5, nr
				rs, cs, anext = kb+3, 1, mr*(kb+3) // row-major A, lda = kb+3
			}
			a := kerneltest.Rand(1, (mt-1)*anext+(mr-1)*rs+(kb-1)*cs+1, 1)
			b := kerneltest.Rand(2, (np-1)*bnext+(kb-1)*ldb+k.bstep(), 1)
			bias := kerneltest.Rand(3, np*nr, 1)
			ldc := np*nr + 3
			for acc := range 3 {
				name := fmt.Sprintf("kernel=%s/inplace=%v/acc=%d", k.name, inPlace, acc)
				got := kerneltest.Rand(4, mt*mr*ldc, 1)
				want := append([]float32(nil), got...)
				var bp *float32
				if acc == 2 {
					bp = &bias[0]
				}
				k.fn(kb, &a[0], rs, cs, &b[0], ldb, bnext, &got[0], ldc, acc, bp, np, mt, anext)
				for r := range mt {
					for tt := range np {
						if acc == 2 {
							bp = &bias[tt*nr]
						}
						k.fn(kb, &a[r*anext], rs, cs, &b[tt*bnext], ldb, bnext, &want[r*mr*ldc+tt*nr], ldc, acc, bp, 1, 1, 0)
					}
				}
				kerneltest.Identical(t, name, got, want)
				ref := kerneltest.Rand(4, mt*mr*ldc, 1)
				for i := range mt * mr {
					for j := range np * nr {
						var s float64
						for p := range kb {
							s += float64(a[(i/mr)*anext+(i%mr)*rs+p*cs]) * float64(b[(j/nr)*bnext+p*ldb+j%nr])
						}
						switch acc {
						case 1:
							s += float64(ref[i*ldc+j])
						case 2:
							s += float64(bias[j])
						}
						if d := math.Abs(float64(got[i*ldc+j]) - s); d > 1e-4*(1+math.Abs(s)) {
							t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, got[i*ldc+j], s)
						}
					}
				}
			}
		}
	}
}
