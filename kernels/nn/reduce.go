package nn

// Row reductions of the normalisation kernels that vmath does not have
// (vmath.Sum, SumSqDev and NormGradSums serve the others). Each keeps
// eight partial sums, like vmath.Dot, which both shortens the dependency
// chain and makes the rounding error grow with len/8 rather than len; the
// order of operations is fixed, so results are deterministic.

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
