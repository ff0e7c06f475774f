package vmath

import "math"

// GELU in its tanh form (Hendrycks and Gimpel 2016, "Gaussian error linear
// units (GELUs)", section 2; GPT-2's activation, PyTorch's
// F.gelu(x, approximate='tanh')):
//
//	GELU(x) = 0.5·x·(1 + tanh u),  u = √(2/π)·(x + 0.044715·x³).
//
// 0.5·(1 + tanh u) is the logistic σ(2u) = 1/(1 + e) with e = exp(-2u), so
// GELU(x) = x/(1 + e): one exponential, through the same range reduction
// and polynomial as Exp, and no cancellation where tanh u is near -1 (x
// below about -4), which 1 + tanh u would suffer. The derivative follows
// from σ' = σ·(1-σ) and 1 - σ(2u) = e·σ(2u), again without cancelling:
//
//	GELU'(x) = s + 2x·u'(x)·(e·s)·s,  s = 1/(1 + e),  u' = √(2/π)·(1 + 3·0.044715·x²).
//
// Both kernels compute -2u as (-2√(2/π)·x)·(1 + 0.044715·x²).

const (
	geluK  = 0.7978845608028654 // √(2/π)
	geluA  = 0.044715
	geluC1 = -2 * geluK // -2u = geluC1·x·(1 + geluA·x²)

	// geluGradClamp bounds x in GELUTanhGrad. Beyond ±9, GELU'(x) is 1
	// (x > 9) or below 3e-27 in magnitude (x < -9) to float32 precision,
	// and GELU'(±9) gives exactly that; within the bounds e = exp(-2u)
	// stays finite (below e^67) and s = 1/(1+e) normal, so e·s holds 1 - s
	// without the Inf·0 an unbounded e would give, and x³ cannot overflow.
	geluGradClamp = 9
)

// GELUTanh sets dst[i] = GELU(x[i]) in the tanh form above. dst and x may
// be the same slice; dst must be at least as long as x.
//
// GELU(NaN) = NaN, GELU(+Inf) = +Inf, and GELU(x) = -0 for x = -Inf and
// wherever e overflows (x below about -10, where |GELU(x)| < 1e-36):
// x is raised to -MaxFloat32 for the final division, so that -Inf/Inf
// cannot give NaN. x³ overflowing (|x| > 1e13) takes e to 0 or +Inf, and
// the result to x or -0, which are the limits.
//
// The assembly paths compute every element alike, wherever it lies in
// the slice (tails go through the vector kernel in a padded buffer), and
// the AVX2 and AVX-512 paths give identical bits. gelu_test.go states the
// accuracy against float64 on every path.
func GELUTanh(dst, x []float32) {
	dst = dst[:len(x)]
	geluTanhImpl(dst, x)
}

// GELUTanhGrad accumulates dx[i] += GELU'(x[i])·dy[i], the backward of
// GELUTanh; x is clamped to [-9, 9] first (see geluGradClamp). GELU'(NaN)
// is NaN, GELU'(+Inf) = 1 and GELU'(-Inf) = GELU'(-9) ≈ -2.5e-27. dx must
// not overlap x or dy; dx and dy must be at least as long as x.
func GELUTanhGrad(dx, x, dy []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	geluTanhGradImpl(dx, x, dy)
}

// GELUTanhGradTo is GELUTanhGrad with dx overwritten: the bits of
// clearing dx and accumulating, without the clearing pass or reading dx
// on the AVX-512 path.
func GELUTanhGradTo(dx, x, dy []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	geluTanhGradToImpl(dx, x, dy)
}

// clampMag returns v with its magnitude limited to geluGradClamp, keeping
// its sign and passing NaN through. It works on the bits: the one unsigned
// comparison (9 < |v| <= Inf, by wrap-around) compiles to a conditional
// move, where min and max on floats, which must order -0 below +0 and
// propagate NaN, take a dozen instructions.
func clampMag(v float32) float32 {
	const sign, lim, inf = 1 << 31, 0x41100000, 0x7f800000 // bits of 9 and of +Inf
	b := math.Float32bits(v)
	mag := b &^ sign
	if mag-(lim+1) < inf-lim {
		mag = lim
	}
	return math.Float32frombits(mag | b&sign)
}

// goChunk is the length of the Go path's stack buffers: the GELU kernels
// compute the arguments of a chunk's exponentials, then the exponentials,
// then the results, in three loops (as nn did around vmath.Exp), which
// runs faster than one loop that calls exp1 per element.
const goChunk = 64

// geluTanhGo is the Go path of GELUTanh, the same operations as the
// vector kernels (without fused multiply-adds, which the compiler may or
// may not use, so results can differ from theirs by an ulp or two).
func geluTanhGo(dst, x []float32) {
	var e [goChunk]float32
	for c0 := 0; c0 < len(x); c0 += goChunk {
		xs := x[c0:min(c0+goChunk, len(x))]
		es, ds := e[:len(xs)], dst[c0:c0+len(xs)]
		for i, v := range xs {
			es[i] = geluC1 * v * (1 + geluA*(v*v)) // -2u
		}
		expGo(es, es)
		for i, v := range xs {
			ds[i] = max(v, -math.MaxFloat32) / (1 + es[i])
		}
	}
}

// geluTanhGradGo is the Go path of GELUTanhGrad.
func geluTanhGradGo(dx, x, dy []float32) {
	var e, nt [goChunk]float32
	for c0 := 0; c0 < len(x); c0 += goChunk {
		xs := x[c0:min(c0+goChunk, len(x))]
		es, nts := e[:len(xs)], nt[:len(xs)]
		for i, v := range xs {
			v = clampMag(v)
			v2, n := v*v, geluC1*v
			es[i] = n * (1 + geluA*v2)    // -2u
			nts[i] = n * (1 + 3*geluA*v2) // -2x·u'(x)
		}
		expGo(es, es)
		dxs, dys := dx[c0:c0+len(xs)], dy[c0:c0+len(xs)]
		for i, e := range es {
			s := 1 / (1 + e)
			dxs[i] += (s - nts[i]*(e*s)*s) * dys[i]
		}
	}
}
