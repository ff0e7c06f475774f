package vmath

// The row kernels of layer normalisation (nn.LayerNormForward and
// nn.LayerNormBackward): a row's sum, its sum of squared deviations, the
// affine normalisation, and the two passes of the gradient. The Go path
// keeps eight partial sums, like Dot; the AVX-512 path (layernorm_amd64.s)
// keeps two 16-lane accumulators on the longest multiple-of-16 prefix and
// adds the Go path's sum of the rest. Both reduce in a fixed order, so a
// row's result depends only on the row and the path. The AVX2 path runs
// the Go code: these rows are short (d_model) and memory-bound there.

// Sum returns the float32 sum of x.
func Sum(x []float32) float32 {
	n, s := sumVec(x)
	return s + sumGo(x[n:])
}

// SumSqDev returns the float32 sum of (x[i] - m)².
func SumSqDev(x []float32, m float32) float32 {
	n, s := sumSqDevVec(x, m)
	return s + sumSqDevGo(x[n:], m)
}

// NormApply sets y[i] = (x[i] - m)·s·w[i] + b[i] over len(x) elements;
// b may be nil (no bias).
func NormApply(y, x, w, b []float32, m, s float32) {
	y, w = y[:len(x)], w[:len(x)]
	if b != nil {
		b = b[:len(x)]
	}
	n := normApplyVec(y, x, w, b, m, s)
	var bt []float32
	if b != nil {
		bt = b[n:]
	}
	normApplyGo(y[n:], x[n:], w[n:], bt, m, s)
}

// NormGradSums returns, over len(x) elements, g = Σ w·dy and
// gn = Σ w·dy·(x - m)·s: the two reductions of LayerNorm's backward.
func NormGradSums(w, dy, x []float32, m, s float32) (g, gn float32) {
	w, dy = w[:len(x)], dy[:len(x)]
	n, g, gn := normGradSumsVec(w, dy, x, m, s)
	g2, gn2 := normGradSumsGo(w[n:], dy[n:], x[n:], m, s)
	return g + g2, gn + gn2
}

// NormGradApply accumulates LayerNorm's gradients for one row: with
// n_i = (x[i] - m)·s and d = dy[i], dw[i] += n_i·d, db[i] += d and
// dx[i] += (w[i]·d - gMean - n_i·gnMean)·s.
func NormGradApply(dx, dw, db, w, dy, x []float32, m, s, gMean, gnMean float32) {
	dx, dw, db, w, dy = dx[:len(x)], dw[:len(x)], db[:len(x)], w[:len(x)], dy[:len(x)]
	n := normGradApplyVec(dx, dw, db, w, dy, x, m, s, gMean, gnMean)
	normGradApplyGo(dx[n:], dw[n:], db[n:], w[n:], dy[n:], x[n:], m, s, gMean, gnMean)
}

func sumGo(x []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func sumSqDevGo(x []float32, m float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		d0, d1, d2, d3 := v[0]-m, v[1]-m, v[2]-m, v[3]-m
		d4, d5, d6, d7 := v[4]-m, v[5]-m, v[6]-m, v[7]-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		s4 += d4 * d4
		s5 += d5 * d5
		s6 += d6 * d6
		s7 += d7 * d7
	}
	for ; i < len(x); i++ {
		d := x[i] - m
		s0 += d * d
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func normApplyGo(y, x, w, b []float32, m, s float32) {
	y, w = y[:len(x)], w[:len(x)]
	if b != nil {
		b = b[:len(x)]
		for i, v := range x {
			y[i] = (v-m)*s*w[i] + b[i]
		}
		return
	}
	for i, v := range x {
		y[i] = (v - m) * s * w[i]
	}
}

func normGradSumsGo(w, dy, x []float32, m, s float32) (g, gn float32) {
	var g0, g1, g2, g3, g4, g5, g6, g7 float32
	var n0, n1, n2, n3, n4, n5, n6, n7 float32
	w, dy = w[:len(x)], dy[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
		ws, ds, xs := w[i:i+8:i+8], dy[i:i+8:i+8], x[i:i+8:i+8]
		a0, a1, a2, a3 := ws[0]*ds[0], ws[1]*ds[1], ws[2]*ds[2], ws[3]*ds[3]
		a4, a5, a6, a7 := ws[4]*ds[4], ws[5]*ds[5], ws[6]*ds[6], ws[7]*ds[7]
		g0 += a0
		g1 += a1
		g2 += a2
		g3 += a3
		g4 += a4
		g5 += a5
		g6 += a6
		g7 += a7
		n0 += a0 * (xs[0] - m) * s
		n1 += a1 * (xs[1] - m) * s
		n2 += a2 * (xs[2] - m) * s
		n3 += a3 * (xs[3] - m) * s
		n4 += a4 * (xs[4] - m) * s
		n5 += a5 * (xs[5] - m) * s
		n6 += a6 * (xs[6] - m) * s
		n7 += a7 * (xs[7] - m) * s
	}
	for ; i < len(x); i++ {
		a := w[i] * dy[i]
		g0 += a
		n0 += a * (x[i] - m) * s
	}
	g = ((g0 + g1) + (g2 + g3)) + ((g4 + g5) + (g6 + g7))
	gn = ((n0 + n1) + (n2 + n3)) + ((n4 + n5) + (n6 + n7))
	return g, gn
}

func normGradApplyGo(dx, dw, db, w, dy, x []float32, m, s, gMean, gnMean float32) {
	dx, dw, db, w, dy = dx[:len(x)], dw[:len(x)], db[:len(x)], w[:len(x)], dy[:len(x)]
	for i, v := range x {
		d, n := dy[i], (v-m)*s
		dw[i] += n * d
		db[i] += d
		dx[i] += (w[i]*d - gMean - n*gnMean) * s
	}
}
