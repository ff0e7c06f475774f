package vmath

// Column operations treat x as a row-major matrix with w columns, where w
// is the length of the per-column vector (m, s or sums) and the number of
// rows is len(x)/w. Attention stores each block of probabilities
// transposed (keys × queries), so a softmax over keys is a column
// operation that vectorises across queries.
//
// Widths that are a multiple of 8 go through assembly (see vectorCols);
// the others, and the Go path, run the loops below. A width of 0 does
// nothing.

// MaxCols sets m[c] = max(m[c], x[r*w+c]) over all rows. m[c] is replaced
// only by larger values, so NaN elements of x are skipped and a NaN m[c]
// stays NaN, on every path. ExpSubCols still turns a NaN element, or a NaN
// m[c], into NaN values and a NaN sums[c].
func MaxCols(m, x []float32) {
	w := len(m)
	if w == 0 {
		return
	}
	if vectorCols(w) {
		maxColsImpl(m, x)
		return
	}
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		for c, v := range row {
			if v > m[c] {
				m[c] = v
			}
		}
	}
}

// ExpSubCols sets dst[r*w+c] = exp(src[r*w+c] - m[c]) and adds each value
// to sums[c], row by row in order. Results below the smallest normal
// float32 (2^-126) are +0, not subnormal, as in ExpSubSum.
func ExpSubCols(dst, src, m, sums []float32) { expCols(dst, src, m, sums, false) }

// Exp2SubCols is ExpSubCols in base 2: it sets dst[r*w+c] = 2^(src[r*w+c]
// - m[c]) and adds each value to sums[c], row by row in order. A softmax
// whose scores are scaled by log2(e) beforehand (folded into the query
// scale, as FlashAttention-2's kernels do) gets the same probabilities
// for about two thirds of the work: 2^x needs no ln 2 range reduction and
// a polynomial one degree lower (Cephes exp2f). Accuracy and edge values
// are those of Exp (3e-7 relative, +Inf from 128, NaN for NaN) except
// below 2^-126: 2^x = +0 below -126 (where Exp would be subnormal), as in
// ExpSubSum, and no step of the computation underflows there, so -Inf
// scores (masked or padded keys) cost no more than others on cores that
// take assists on subnormals.
func Exp2SubCols(dst, src, m, sums []float32) { expCols(dst, src, m, sums, true) }

// expCols is ExpSubCols in base 2 or e: vector strips (vectorCols), or
// the scalar exponential.
func expCols(dst, src, m, sums []float32, base2 bool) {
	w := len(m)
	if w == 0 {
		return
	}
	if vectorCols(w) {
		if base2 {
			exp2SubColsImpl(dst, src, m, sums)
		} else {
			expSubColsImpl(dst, src, m, sums)
		}
		return
	}
	one := exp1
	if base2 {
		one = exp2One
	}
	for r := 0; r+w <= len(src); r += w {
		d, s := dst[r:r+w], src[r:r+w]
		for c, v := range s {
			e := flushSub(one(v - m[c]))
			d[c] = e
			sums[c] += e
		}
	}
}

// ScaleCols sets x[r*w+c] *= s[c].
func ScaleCols(x, s []float32) {
	w := len(s)
	if w == 0 {
		return
	}
	if vectorCols(w) {
		scaleColsImpl(x, s)
		return
	}
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		for c := range row {
			row[c] *= s[c]
		}
	}
}

// DotCols adds sum_r a[r*w+c]*b[r*w+c] to sums[c].
func DotCols(sums, a, b []float32) {
	w := len(sums)
	if w == 0 {
		return
	}
	if vectorCols(w) {
		dotColsImpl(sums, a, b)
		return
	}
	for r := 0; r+w <= len(a); r += w {
		ra, rb := a[r:r+w], b[r:r+w]
		for c := range ra {
			sums[c] += ra[c] * rb[c]
		}
	}
}

// SoftmaxGradCols sets d[r*w+c] = scale * p[r*w+c] * (d[r*w+c] - s[c]): the
// softmax backward dS = P ⊙ (dP − rowsum(P ⊙ dP)) with s the column dots.
// Results of magnitude below 2^-126 are +0: small probabilities times
// small differences are subnormal, which the products that read dS would
// pay for (see flushSub).
func SoftmaxGradCols(d, p, s []float32, scale float32) {
	w := len(s)
	if w == 0 {
		return
	}
	if vectorCols(w) {
		softmaxGradColsImpl(d, p, s, scale)
		return
	}
	for r := 0; r+w <= len(d); r += w {
		rd, rp := d[r:r+w], p[r:r+w]
		for c := range rd {
			rd[c] = flushSubSigned(scale * rp[c] * (rd[c] - s[c]))
		}
	}
}
