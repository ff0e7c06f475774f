package vmath

import "math"

// GELU in its exact form (PyTorch's default F.gelu; BERT, ViT):
//
//	GELU(x) = x·Φ(x),  GELU'(x) = Φ(x) + x·φ(x),  φ(x) = exp(-x²/2)/√(2π).
//
// Φ comes from the normal tail q = Φ(-|x|) = erfc(|x|/√2)/2: Φ(x) = q for
// x < 0 and 1 - q otherwise, so the negative tail keeps its relative
// accuracy. erfc is the Chebyshev fit of Numerical Recipes ("erfcc"): for
// z >= 0, erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2), fractional error
// below 1.2e-7 for every z. With z = |x|/√2,
//
//	q = t/2 · exp(-x²/2) · exp(P(t)),
//
// the two exponentials taken separately so that rounding -x²/2 + P(t) to
// float32 does not cost the tail its relative accuracy (about 1e-6 up to
// |x| = 8, against 6e-6 for one combined exponential). t and P(t) are
// evaluated in float64, on the vector paths too (two halves of 8 or 4
// lanes): Horner's nine steps in float32 would add up to 5e-7 of rounding
// to the exponent.
//
// The result and Φ are selected by the sign bit of x (a blend, exact, no
// branch on the data). x·q and x·φ use x limited to ±MaxFloat32, so that
// ±Inf times a tail of 0 gives 0, not NaN: GELU(+Inf) = +Inf, GELU(-Inf) =
// -0, GELU'(+Inf) = 1, GELU'(-Inf) = 0, and NaN gives NaN.
const (
	erfcP0 = -1.26551223
	erfcP1 = 1.00002368
	erfcP2 = 0.37409196
	erfcP3 = 0.09678418
	erfcP4 = -0.18628806
	erfcP5 = 0.27886807
	erfcP6 = -1.13520398
	erfcP7 = 1.48851587
	erfcP8 = -0.82215223
	erfcP9 = 0.17087277

	invSqrt2   = 0.7071067811865476 // 1/√2
	invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
)

// GELUErf sets dst[i] = x[i]·Φ(x[i]) as described above. dst and x may be
// the same slice; dst must be at least as long as x. Like GELUTanh, the
// assembly paths give every element the same bits wherever it lies, and
// AVX2 and AVX-512 agree bit for bit; gelu_test.go states the accuracy.
func GELUErf(dst, x []float32) {
	dst = dst[:len(x)]
	geluErfImpl(dst, x)
}

// GELUErfGrad accumulates dx[i] += (Φ(x[i]) + x[i]·φ(x[i]))·dy[i], the
// backward of GELUErf. dx must not overlap x or dy; dx and dy must be at
// least as long as x.
func GELUErfGrad(dx, x, dy []float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	geluErfGradImpl(dx, x, dy)
}

// geluErfParts returns the tail q = Φ(-|x|), the Gaussian g = exp(-x²/2)
// and x limited to ±MaxFloat32: the scalar form of the vector algorithm.
func geluErfParts(x float32) (q, g, xc float32) {
	a := float64(math.Float32frombits(math.Float32bits(x) &^ (1 << 31))) // |x|
	t := 1 / (1 + (0.5*invSqrt2)*a)
	p := erfcP9*t + erfcP8
	p = p*t + erfcP7
	p = p*t + erfcP6
	p = p*t + erfcP5
	p = p*t + erfcP4
	p = p*t + erfcP3
	p = p*t + erfcP2
	p = p*t + erfcP1
	p = p*t + erfcP0
	g = exp1(-0.5 * x * x)
	q = 0.5 * float32(t) * g * exp1(float32(p))
	return q, g, min(max(x, -math.MaxFloat32), math.MaxFloat32)
}

// signSelect returns neg if x's sign bit is set, else pos, without a
// branch.
func signSelect(x, neg, pos float32) float32 {
	m := uint32(int32(math.Float32bits(x)) >> 31)
	return math.Float32frombits(m&math.Float32bits(neg) | ^m&math.Float32bits(pos))
}

func geluErf1(x float32) float32 {
	q, _, xc := geluErfParts(x)
	xq := xc * q
	return signSelect(x, xq, x-xq) // x·Φ(x): x·q or x - x·q, one rounding either way
}

// geluErfGrad1 returns GELU'(x) = Φ(x) + x·φ(x).
func geluErfGrad1(x float32) float32 {
	q, g, xc := geluErfParts(x)
	return signSelect(x, q, 1-q) + xc*g*invSqrt2Pi
}

func geluErfGo(dst, x []float32) {
	for i, v := range x {
		dst[i] = geluErf1(v)
	}
}

func geluErfGradGo(dx, x, dy []float32) {
	for i, v := range x {
		dx[i] += geluErfGrad1(v) * dy[i]
	}
}
