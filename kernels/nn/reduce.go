package nn

// Row reductions shared by the normalisation and loss kernels. Each keeps
// eight partial sums, like vmath.Dot, which both shortens the dependency
// chain and makes the rounding error grow with len/8 rather than len; the
// order of operations is fixed, so results are deterministic.

// sum returns the float32 sum of x.
func sum(x []float32) float32 {
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

// sumSqDev returns the float32 sum of (x[i]-m)².
func sumSqDev(x []float32, m float32) float32 {
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

// layerNormRowSums returns, for one row, the sums of g = w·dy and of
// g·n with n = (x-m)·s, the two reductions of LayerNormBackward.
func layerNormRowSums(w, dy, x []float32, m, s float32) (g, gn float32) {
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

// rmsNormRowSum returns, for one row, the sum of w·dy·x·s, the reduction
// of RMSNormBackward.
func rmsNormRowSum(w, dy, x []float32, s float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	w, dy = w[:len(x)], dy[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
		ws, ds, xs := w[i:i+8:i+8], dy[i:i+8:i+8], x[i:i+8:i+8]
		s0 += ws[0] * ds[0] * xs[0] * s
		s1 += ws[1] * ds[1] * xs[1] * s
		s2 += ws[2] * ds[2] * xs[2] * s
		s3 += ws[3] * ds[3] * xs[3] * s
		s4 += ws[4] * ds[4] * xs[4] * s
		s5 += ws[5] * ds[5] * xs[5] * s
		s6 += ws[6] * ds[6] * xs[6] * s
		s7 += ws[7] * ds[7] * xs[7] * s
	}
	for ; i < len(x); i++ {
		s0 += w[i] * dy[i] * x[i] * s
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}
