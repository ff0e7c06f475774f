package blas

import (
	"fmt"
	"testing"
)

// TestPackB checks packB, whose 32-wide panels take the assembly paths
// (a row copy, or 8×8 register transposes plus the last steps), against
// the definition: panel q holds kb steps of nr values, step p's value jj
// being alpha·op(B)[p0+p][j0+q*nr+jj], zeros past the columns.
func TestPackB(t *testing.T) {
	for _, trans := range []bool{false, true} {
		for _, kb := range []int{1, 7, 8, 9, 16, 23, 32, 129, 384} {
			for _, cols := range []int{5, 32, 33, 64, 70} {
				for _, nr := range []int{16, 32} {
					alpha := float32(1)
					if kb%2 == 1 {
						alpha = -0.75
					}
					name := fmt.Sprintf("trans=%v/kb=%d/cols=%d/nr=%d", trans, kb, cols, nr)
					p0, j0 := 3, 2
					k, n := p0+kb+1, j0+cols+3
					rows, ld := k, n+5
					if trans {
						rows, ld = n, k+7
					}
					b := make([]float32, rows*ld)
					for i := range b {
						b[i] = float32(i%1013) - 500
					}
					at := func(p, j int) float32 { // op(B)[p][j]
						if trans {
							return b[j*ld+p]
						}
						return b[p*ld+j]
					}
					panels := (cols + nr - 1) / nr
					dst := make([]float32, panels*nr*kb+1)
					for i := range dst {
						dst[i] = -1 // padding must be written as zeros
					}
					packB(dst, trans, b, ld, p0, kb, j0, cols, nr, alpha)
					for q := range panels {
						for p := range kb {
							for jj := range nr {
								want := float32(0)
								if q*nr+jj < cols {
									want = alpha * at(p0+p, j0+q*nr+jj)
								}
								if got := dst[q*nr*kb+p*nr+jj]; got != want {
									t.Fatalf("%s: panel %d step %d column %d = %v, want %v", name, q, p, jj, got, want)
								}
							}
						}
					}
					if dst[len(dst)-1] != -1 {
						t.Fatalf("%s: wrote past the panels", name)
					}
				}
			}
		}
	}
}
