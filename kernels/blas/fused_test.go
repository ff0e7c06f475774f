package blas

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
)

// MulPacked reads A in place through strides: row-major (rs=lda, cs=1) and
// transposed (rs=1, cs=lda) must both match the naive product.
func TestMulPacked(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		for _, s := range [][3]int{{1, 1, 1}, {13, 33, 7}, {64, 32, 1024}, {37, 70, 300}, {100, 5, 64}, {8, 32, 32}, {48, 16, 500}, {37, 16, 33}, {512, 16, 32}} {
			m, n, k := s[0], s[1], s[2]
			for _, transA := range []bool{false, true} {
				for _, transB := range []bool{false, true} {
					for _, accum := range []bool{false, true} {
						name := fmt.Sprintf("m=%d/n=%d/k=%d/tA=%v/tB=%v/acc=%v", m, n, k, transA, transB, accum)
						a := kerneltest.Rand(1, m*k, 1)
						b := kerneltest.Rand(2, k*n, 1)
						want := kerneltest.Rand(3, m*n, 1)
						got := append([]float32(nil), want...)
						beta := float32(0)
						if accum {
							beta = 1
						}
						ldb := n
						if transB {
							ldb = k
						}
						lda, rs, cs := k, k, 1
						if transA {
							lda, rs, cs = m, 1, m
						}
						GemmNaive(transA, transB, m, n, k, 0.5, a, lda, b, ldb, beta, want, n)
						bp := make([]float32, PackedBLen(k, n))
						PackB(bp, transB, k, n, 0.5, b, ldb)
						MulPacked(m, n, k, a, rs, cs, bp, accum, got, n)
						kerneltest.Close(t, name, got, want, gemmTol(k))
					}
				}
			}
		}
	})
}

// A k×nr row-major matrix is a packed B for n <= nr.
func TestRowMajorPanelIsPackedB(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		_, nr, _ := Panel()
		m, k := 20, 600
		a := kerneltest.Rand(1, m*k, 1)
		b := kerneltest.Rand(2, k*nr, 1)
		want := make([]float32, m*nr)
		got := make([]float32, m*nr)
		GemmNaive(false, false, m, nr, k, 1, a, k, b, nr, 0, want, nr)
		MulPacked(m, nr, k, a, k, 1, b, false, got, nr)
		kerneltest.Close(t, "panel", got, want, gemmTol(k))
	})
}

func TestMulPackedAllocatesNothing(t *testing.T) {
	m, n, k := 37, 64, 300
	a := kerneltest.Rand(1, m*k, 1)
	bp := make([]float32, PackedBLen(k, n))
	c := make([]float32, m*n)
	b := kerneltest.Rand(2, k*n, 1)
	MulPacked(m, n, k, a, k, 1, bp, false, c, n)
	if got := testing.AllocsPerRun(10, func() {
		PackB(bp, true, k, n, 2, b, k)
		MulPacked(m, n, k, a, k, 1, bp, false, c, n)
	}); got != 0 {
		t.Errorf("PackB+MulPacked allocated %v times per call", got)
	}
}

// MulPacked's half-width kernel (n <= nr/2) gives the same bits as the
// full-width kernel on the same packed B: every element is the same sum.
func TestHalfKernelMatchesFullWidth(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		half := active.half
		if half == nil {
			t.Skip("no half-width kernel")
		}
		for _, s := range [][3]int{{512, 16, 32}, {37, 16, 500}, {16, 9, 1}, {40, 1, 70}} {
			m, n, k := s[0], s[1], s[2]
			a := kerneltest.Rand(1, m*k, 1)
			b := kerneltest.Rand(2, k*n, 1)
			c0 := kerneltest.Rand(3, m*n, 1)
			bp := make([]float32, PackedBLen(k, n))
			PackB(bp, false, k, n, 1, b, n)
			for _, accum := range []bool{false, true} {
				got := append([]float32(nil), c0...)
				MulPacked(m, n, k, a, k, 1, bp, accum, got, n)
				want := append([]float32(nil), c0...)
				active.half = nil
				MulPacked(m, n, k, a, k, 1, bp, accum, want, n)
				active.half = half
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("m=%d n=%d k=%d acc=%v: element %d is %v with the half kernel, %v without", m, n, k, accum, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// MulPackedBias gives GemmBias's bits for the same product (Y = X·Wᵀ + b,
// W packed transposed), over one and several K blocks, edges of every
// tile size, and on a column range of the packed B: the panels of columns
// j0 on, j0 a multiple of nr, when K is one block (a linear layer's
// output computed head by head).
func TestMulPackedBias(t *testing.T) {
	eachKernel(t, func(t *testing.T) {
		_, nr, kc := Panel()
		for _, s := range [][3]int{{1, 1, 1}, {13, 33, 7}, {256, 96, 128}, {37, 70, 500}, {8, 16, 0}} {
			m, n, k := s[0], s[1], s[2]
			name := fmt.Sprintf("m=%d/n=%d/k=%d", m, n, k)
			a := kerneltest.Rand(1, max(m*k, 1), 1)
			w := kerneltest.Rand(2, max(n*k, 1), 1)
			bias := kerneltest.Rand(3, n, 1)
			want := make([]float32, m*n)
			GemmBias(false, true, m, n, k, 1, a, k, w, k, bias, want, n)
			bp := make([]float32, PackedBLen(k, n))
			PackB(bp, true, k, n, 1, w, k)
			got := kerneltest.Rand(4, m*n, 1) // overwritten
			MulPackedBias(m, n, k, a, k, 1, bp, bias, got, n)
			kerneltest.Identical(t, name, got, want)
			if k > kc || n <= nr {
				continue
			}
			// Columns nr on alone, from the same packing.
			part := make([]float32, m*(n-nr))
			MulPackedBias(m, n-nr, k, a, k, 1, bp[nr*k:], bias[nr:], part, n-nr)
			for i := range m {
				kerneltest.Identical(t, name+"/columns from nr", part[i*(n-nr):(i+1)*(n-nr)], want[i*n+nr:(i+1)*n])
			}
		}
	})
}
