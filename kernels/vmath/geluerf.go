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

// signSelect returns neg if x's sign bit is set, else pos, without a
// branch.
func signSelect(x, neg, pos float32) float32 {
	m := uint32(int32(math.Float32bits(x)) >> 31)
	return math.Float32frombits(m&math.Float32bits(neg) | ^m&math.Float32bits(pos))
}

// geluErfGo is the Go path of GELUErf (with dst) or GELUErfGrad (with dx
// and dy), in chunks as geluTanhGo.
func geluErfGo(dst, dx, x, dy []float32) {
	var tb, pb, gb [goChunk]float32
	for c0 := 0; c0 < len(x); c0 += goChunk {
		xs := x[c0:min(c0+goChunk, len(x))]
		ts, ps, gs := tb[:len(xs)], pb[:len(xs)], gb[:len(xs)]
		for i, v := range xs {
			a := float64(math.Float32frombits(math.Float32bits(v) &^ (1 << 31))) // |x|
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
			ts[i], ps[i], gs[i] = float32(t), float32(p), -0.5*v*v
		}
		expGo(gs, gs) // exp(-x²/2)
		expGo(ps, ps) // exp(P(t))
		if dst != nil {
			ds := dst[c0 : c0+len(xs)]
			for i, v := range xs {
				q := 0.5 * ts[i] * gs[i] * ps[i] // Φ(-|x|)
				xq := min(max(v, -math.MaxFloat32), math.MaxFloat32) * q
				ds[i] = signSelect(v, xq, v-xq) // x·q or x - x·q, one rounding either way
			}
			continue
		}
		dxs, dys := dx[c0:c0+len(xs)], dy[c0:c0+len(xs)]
		for i, v := range xs {
			q := 0.5 * ts[i] * gs[i] * ps[i]
			xc := min(max(v, -math.MaxFloat32), math.MaxFloat32)
			dxs[i] += (signSelect(v, q, 1-q) + xc*gs[i]*invSqrt2Pi) * dys[i]
		}
	}
}
