package blas

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/parallel"
)

// GemmBias must equal, bit for bit, C's rows filled with the bias and then
// Gemm with beta 1, on every kernel, at edges of every tile size, across K
// blocks and on one and two threads; and it must ignore what C held.
func TestGemmBias(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, s := range [][3]int{{1, 1, 1}, {12, 32, 8}, {13, 33, 7}, {8, 64, 5}, {37, 65, 257}, {64, 513, 9}, {25, 70, 800}, {2048, 384, 128}, {300, 16, 100}, {7, 5, 0}} {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for _, th := range []int{1, 2} {
					m, n, k := s[0], s[1], s[2]
					name := fmt.Sprintf("tA=%v/tB=%v/m=%d/n=%d/k=%d/threads=%d", tr[0], tr[1], m, n, k, th)
					ar, ac, br, bc := m, k, k, n
					if tr[0] {
						ar, ac = k, m
					}
					if tr[1] {
						br, bc = n, k
					}
					a := kerneltest.Rand(1, max(ar*ac, 1), 1)
					b := kerneltest.Rand(2, max(br*bc, 1), 1)
					bias := kerneltest.Rand(3, n, 1)
					ldc := n + 3
					want := make([]float32, m*ldc)
					got := make([]float32, m*ldc)
					for i := range got {
						got[i] = float32(math.NaN()) // overwritten, not read
					}
					for i := range m {
						copy(want[i*ldc:], bias)
						got[i*ldc+n], want[i*ldc+n] = 7, 7 // the padding stays
					}
					prev := parallel.SetThreads(th)
					Gemm(tr[0], tr[1], m, n, k, 0.5, a, ac, b, bc, 1, want, ldc)
					GemmBias(tr[0], tr[1], m, n, k, 0.5, a, ac, b, bc, bias, got, ldc)
					parallel.SetThreads(prev)
					for i := range m {
						kerneltest.Identical(t, name, got[i*ldc:i*ldc+n+1], want[i*ldc:i*ldc+n+1])
					}
				}
			}
		}
	})
}
