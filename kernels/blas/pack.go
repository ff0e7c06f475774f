package blas

import "github.com/attnlab/attnlab/kernels/vmath"

// packA packs rows [i0, i0+rows) and columns [p0, p0+kb) of op(A), scaled
// by alpha, into micro-panels of mr rows: panel r holds kb steps of mr
// values, rows past the edge padded with zeros. dst needs
// ceil(rows/mr)*mr*kb elements.
func packA(dst []float32, transA bool, a []float32, lda, i0, rows, p0, kb, mr int, alpha float32) {
	for r0 := 0; r0 < rows; r0 += mr {
		panel := dst[(r0/mr)*mr*kb : (r0/mr+1)*mr*kb]
		h := min(mr, rows-r0)
		if !transA && alpha == 1 && h == mr {
			// Full panel: four rows at a time (interleave4).
			ii := 0
			for ; ii+4 <= mr; ii += 4 {
				interleave4(panel, mr, ii, a, (i0+r0+ii)*lda+p0, lda, kb)
			}
			for ; ii < mr; ii++ {
				o := (i0+r0+ii)*lda + p0
				for p, v := range a[o : o+kb] {
					panel[p*mr+ii] = v
				}
			}
		} else if !transA {
			for ii := range h {
				row := a[(i0+r0+ii)*lda+p0 : (i0+r0+ii)*lda+p0+kb]
				for p, v := range row {
					panel[p*mr+ii] = alpha * v
				}
			}
		} else if alpha == 1 && h == mr {
			// A full panel of a matrix stored transposed: each step's mr
			// values are contiguous, one vector loop over the steps.
			vmath.CopyRows(panel, mr, a[p0*lda+i0+r0:], lda, kb, mr)
		} else {
			for p := range kb {
				src := a[(p0+p)*lda+i0+r0 : (p0+p)*lda+i0+r0+h]
				d := panel[p*mr : p*mr+h]
				for ii, v := range src {
					d[ii] = alpha * v
				}
			}
		}
		if h < mr {
			for p := range kb {
				clear(panel[p*mr+h : p*mr+mr])
			}
		}
	}
}

// packB packs rows [p0, p0+kb) and columns [j0, j0+cols) of alpha·op(B)
// into micro-panels of nr columns: panel q holds kb steps of nr values,
// columns past the edge padded with zeros.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kb, j0, cols, nr int, alpha float32) {
	for c0 := 0; c0 < cols; c0 += nr {
		panel := dst[(c0/nr)*nr*kb : (c0/nr+1)*nr*kb]
		w := min(nr, cols-c0)
		switch {
		case !transB:
			// Each step's w values are contiguous: one vector loop over
			// the block's rows (a copy call per row cost as much as the
			// move).
			vmath.CopyRows(panel, nr, b[p0*ldb+j0+c0:], ldb, kb, w)
		case w == 32 && nr == 32 && hasTranspose:
			// Column jj of the panel is row j0+c0+jj of B as stored:
			// 8×8 blocks transposed in registers, then the last steps.
			o := (j0+c0)*ldb + p0
			if kb > 0 {
				_ = b[o+31*ldb+kb-1] // the last row's last value
				transposePanel32(&panel[0], &b[o], kb, ldb, alpha)
			}
			for p := kb &^ 7; p < kb; p++ {
				d := panel[p*32 : p*32+32]
				for jj := range d {
					d[jj] = alpha * b[o+jj*ldb+p]
				}
			}
			continue // scaled already
		default:
			// Column jj of the panel is row j0+c0+jj of B as stored; four
			// at a time, as packA does.
			jj := 0
			for ; jj+4 <= w; jj += 4 {
				interleave4(panel, nr, jj, b, (j0+c0+jj)*ldb+p0, ldb, kb)
			}
			for ; jj < w; jj++ {
				col := b[(j0+c0+jj)*ldb+p0 : (j0+c0+jj)*ldb+p0+kb]
				for p, v := range col {
					panel[p*nr+jj] = v
				}
			}
		}
		if alpha != 1 {
			for i := range panel[:kb*nr] {
				panel[i] *= alpha
			}
		}
		if w < nr {
			for p := range kb {
				clear(panel[p*nr+w : p*nr+nr])
			}
		}
	}
}

// interleave4 packs four rows of n values, src[o:], src[o+ld:], ... (n =
// kb), into a panel whose steps are step wide: panel[p*step+off+r] = row
// r's p-th value. It walks the four rows once, writing each step's four
// values side by side: four row cursors stay in registers (measured 3×
// faster than one pass per row, BenchmarkPackA).
func interleave4(panel []float32, step, off int, src []float32, o, ld, n int) {
	r0 := src[o : o+n : o+n]
	r1 := src[o+ld : o+ld+n : o+ld+n]
	r2 := src[o+2*ld : o+2*ld+n : o+2*ld+n]
	r3 := src[o+3*ld : o+3*ld+n : o+3*ld+n]
	for p := range r0 {
		d := panel[p*step+off : p*step+off+4 : p*step+off+4]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
	}
}
