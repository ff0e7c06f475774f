package blas

// packA packs rows [i0, i0+rows) and columns [p0, p0+kb) of op(A), scaled
// by alpha, into micro-panels of mr rows: panel r holds kb steps of mr
// values, rows past the edge padded with zeros. dst needs
// ceil(rows/mr)*mr*kb elements.
func packA(dst []float32, transA bool, a []float32, lda, i0, rows, p0, kb, mr int, alpha float32) {
	for r0 := 0; r0 < rows; r0 += mr {
		panel := dst[(r0/mr)*mr*kb : (r0/mr+1)*mr*kb]
		h := min(mr, rows-r0)
		if !transA && alpha == 1 && h == mr && mr <= 12 {
			// Full panel: walk the K block once, writing each step's mr
			// values contiguously from mr row cursors.
			var rows [12][]float32
			for ii := range mr {
				o := (i0+r0+ii)*lda + p0
				rows[ii] = a[o : o+kb : o+kb]
			}
			for p := range kb {
				d := panel[p*mr : p*mr+mr : p*mr+mr]
				for ii := range d {
					d[ii] = rows[ii][p]
				}
			}
		} else if !transA {
			for ii := range h {
				row := a[(i0+r0+ii)*lda+p0 : (i0+r0+ii)*lda+p0+kb]
				for p, v := range row {
					panel[p*mr+ii] = alpha * v
				}
			}
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

// packB packs rows [p0, p0+kb) and columns [j0, j0+cols) of op(B) into
// micro-panels of nr columns: panel q holds kb steps of nr values, columns
// past the edge padded with zeros.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kb, j0, cols, nr int) {
	for c0 := 0; c0 < cols; c0 += nr {
		panel := dst[(c0/nr)*nr*kb : (c0/nr+1)*nr*kb]
		w := min(nr, cols-c0)
		if !transB {
			for p := range kb {
				src := b[(p0+p)*ldb+j0+c0 : (p0+p)*ldb+j0+c0+w]
				copy(panel[p*nr:p*nr+w], src)
			}
		} else {
			for jj := range w {
				col := b[(j0+c0+jj)*ldb+p0 : (j0+c0+jj)*ldb+p0+kb]
				for p, v := range col {
					panel[p*nr+jj] = v
				}
			}
		}
		if w < nr {
			for p := range kb {
				clear(panel[p*nr+w : p*nr+nr])
			}
		}
	}
}
