package vmath

import (
	"fmt"
	"math"
)

// Exp sets dst[i] = exp(src[i]). dst and src may be the same slice; dst must
// be at least as long as src. The package comment gives the accuracy and
// the values at the edges (NaN, ±Inf, overflow, subnormal results).
func Exp(dst, src []float32) {
	dst = dst[:len(src)]
	expImpl(dst, src)
}

// ExpSubSum sets dst[i] = exp(src[i] - m) and returns the float32 sum of
// dst, accumulated in a fixed order. With m = max(src) this is the
// numerically safe numerator and denominator of softmax. Results below
// the smallest normal float32 (2^-126) are +0, not subnormal: see
// flushSub.
func ExpSubSum(dst, src []float32, m float32) float32 {
	dst = dst[:len(src)]
	return expSubSumImpl(dst, src, m)
}

// Max returns the largest element of x (NaN if any element is NaN, -Inf
// for an empty slice).
func Max(x []float32) float32 {
	m := float32(math.Inf(-1))
	n, vm, nan := maxVec(x)
	if nan {
		return float32(math.NaN())
	}
	if n > 0 {
		m = vm
	}
	for _, v := range x[n:] {
		if v > m || v != v {
			m = v
			if v != v {
				return v
			}
		}
	}
	return m
}

// Scale sets x[i] *= s.
func Scale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// Dot returns sum(a[i]*b[i]) over len(a) elements, accumulated in float32:
// on the AVX-512 path in two 16-lane accumulators over the longest
// multiple-of-16 prefix, plus the Go path's sum of the rest (as Sum); on
// the Go path with eight interleaved partial sums. A result depends only
// on the inputs and the path.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	n, s := dotVec(a, b)
	return s + dotGo(a[n:], b[n:])
}

func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
		s4 += a[i+4] * b[i+4]
		s5 += a[i+5] * b[i+5]
		s6 += a[i+6] * b[i+6]
		s7 += a[i+7] * b[i+7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// AddSum4 adds (a[i] + b[i]) + (c[i] + d[i]) to acc[i] over len(acc)
// elements, in that order on every path: a sum over rows four at a time
// (a bias gradient, a column sum) that gives the same bits vectorised.
func AddSum4(acc, a, b, c, d []float32) {
	n := len(acc)
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	k := addSum4Vec(acc, a, b, c, d)
	for i := k; i < n; i++ {
		acc[i] += (a[i] + b[i]) + (c[i] + d[i])
	}
}

// AddRows adds to acc every row of x (len(x)/len(acc) rows of len(acc)
// values), four rows at a time with AddSum4 and any last ones with Axpy:
// the column sums of a row-major block, in an order fixed by its shape.
func AddRows(acc, x []float32) {
	c := len(acc)
	if c == 0 {
		return
	}
	rows := len(x) / c
	r := 0
	for ; r+4 <= rows; r += 4 {
		AddSum4(acc, x[r*c:(r+1)*c], x[(r+1)*c:(r+2)*c], x[(r+2)*c:(r+3)*c], x[(r+3)*c:(r+4)*c])
	}
	for ; r < rows; r++ {
		Axpy(1, x[r*c:(r+1)*c], acc)
	}
}

// Mul sets x[i] *= y[i] over len(x) elements.
func Mul(x, y []float32) {
	y = y[:len(x)]
	n := mulVec(x, y)
	y = y[n:]
	for i := range x[n:] {
		x[n+i] *= y[i]
	}
}

// Axpy sets y[i] += alpha*x[i] over len(x) elements.
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	n := axpyVec(alpha, x, y)
	y = y[n:]
	for i, v := range x[n:] {
		y[i] += alpha * v
	}
}

// Cephes expf constants.
const (
	expHi = 88.72283935546875
	expLo = -87.33654022216797
	log2e = 1.44269504088896341
	ln2Hi = 0.693359375
	ln2Lo = -2.12194440e-4
	expP0 = 1.9875691500e-4
	expP1 = 1.3981999507e-3
	expP2 = 8.3334519073e-3
	expP3 = 4.1665795894e-2
	expP4 = 1.6666665459e-1
	expP5 = 5.0000001201e-1
)

// Cephes exp2f constants: 2^f = 1 + f·P(f) on [-1/2, 1/2], P of degree 5
// (relative error about 2e-7).
const (
	exp2P0 = 1.535336188319500e-4
	exp2P1 = 1.339887440266574e-3
	exp2P2 = 9.618437357674640e-3
	exp2P3 = 5.550332471162809e-2
	exp2P4 = 2.402264791363012e-1
	exp2P5 = 6.931472028550421e-1
)

// exp2One is the scalar form of the vector base-2 exponential (see
// Exp2SubCols), used by the pure-Go path and for tails.
func exp2One(x float32) float32 {
	if x != x {
		return x
	}
	if x > 127 || x < -126 {
		// 2^n outside the normal exponents: rare, so defer to math.Exp2,
		// which gives +Inf and subnormals as the vector path does.
		return float32(math.Exp2(float64(x)))
	}
	n := float32(math.RoundToEven(float64(x)))
	f := x - n
	p := float32(exp2P0)
	p = p*f + exp2P1
	p = p*f + exp2P2
	p = p*f + exp2P3
	p = p*f + exp2P4
	p = p*f + exp2P5
	p = p*f + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// exp1 is the scalar form of the vector algorithm, used by the pure-Go path
// and for tails.
func exp1(x float32) float32 {
	if x != x {
		return x
	}
	if x > 88 || x < expLo {
		// Near overflow 2^n no longer fits a float32 exponent, and below
		// expLo results are subnormal: both are rare, so defer to math.Exp,
		// which also gives +Inf above expHi and 0 far below expLo, as the
		// vector path does.
		return float32(math.Exp(float64(x)))
	}
	n := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - n*ln2Hi
	r -= n * ln2Lo
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func expGo(dst, src []float32) {
	for i, v := range src {
		dst[i] = exp1(v)
	}
}

// minNormal is the smallest normal float32.
const minNormal = 0x1p-126

// flushSub returns x, a probability (non-negative or NaN), or +0 if x is
// below the smallest normal float32. Probabilities come from the
// exponentials of ExpSubSum, ExpSubCols and Exp2SubCols, and enter the
// products of attention and of the output layer's gradient. A subnormal
// operand makes an Intel core's multiply take a microcode assist: a
// matrix product whose input is half subnormal runs about 100 times
// slower there (measured: 10 ms against 0.1 at 256×256), and a trained
// model's sharp attention makes such probabilities, between 2^-149 and
// 2^-126 of the row's largest, by the thousand. Dropping them changes no
// float32 sum they take part in (each row's largest probability is 1 and
// float32 resolves 2^-24 of it) and no product by more than 2^-126 of
// an operand.
func flushSub(x float32) float32 {
	if x < minNormal {
		return 0
	}
	return x
}

// flushSubSigned returns x, or +0 if |x| is below the smallest normal
// float32 (subnormals and -0): for SoftmaxGradCols' output, whose
// products with small probabilities are subnormal in turn.
func flushSubSigned(x float32) float32 {
	if x > -minNormal && x < minNormal {
		return 0
	}
	return x
}

func expSubSumGo(dst, src []float32, m float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(src); i += 8 {
		d := dst[i : i+8 : i+8]
		x := src[i : i+8 : i+8]
		d[0] = flushSub(exp1(x[0] - m))
		d[1] = flushSub(exp1(x[1] - m))
		d[2] = flushSub(exp1(x[2] - m))
		d[3] = flushSub(exp1(x[3] - m))
		d[4] = flushSub(exp1(x[4] - m))
		d[5] = flushSub(exp1(x[5] - m))
		d[6] = flushSub(exp1(x[6] - m))
		d[7] = flushSub(exp1(x[7] - m))
		s0 += d[0]
		s1 += d[1]
		s2 += d[2]
		s3 += d[3]
		s4 += d[4]
		s5 += d[5]
		s6 += d[6]
		s7 += d[7]
	}
	for ; i < len(src); i++ {
		dst[i] = flushSub(exp1(src[i] - m))
		s0 += dst[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// CopyRows copies rows rows of width values from src to dst, row r of src
// starting at r*srcStride and of dst at r*dstStride: a block of one strided
// matrix into another (attention's head split and merge move rows of one
// head at a time this way, and matrix multiplication packs its panels).
// On the assembly paths, rows of a multiple of 4 values move with one
// vector loop instead of a copy call per row. The blocks must not
// overlap.
func CopyRows(dst []float32, dstStride int, src []float32, srcStride int, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	if width > dstStride || width > srcStride || len(dst) < (rows-1)*dstStride+width || len(src) < (rows-1)*srcStride+width {
		panic(fmt.Sprintf("vmath.CopyRows: %d rows of %d need strides of at least %d and %d and %d elements, have strides %d and %d and %d and %d elements",
			rows, width, width, (rows-1)*dstStride+width, (rows-1)*srcStride+width, dstStride, srcStride, len(dst), len(src)))
	}
	if copyRowsVec(dst, dstStride, src, srcStride, rows, width) {
		return
	}
	for r := range rows {
		copy(dst[r*dstStride:r*dstStride+width], src[r*srcStride:r*srcStride+width])
	}
}
