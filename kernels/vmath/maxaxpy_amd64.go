//go:build amd64 && !purego

package vmath

// The AVX-512 Max, Axpy and Mul of maxaxpy_amd64.s, on the prefix that
// avx512Prefix gives; vmath.go does the rest in Go.

//go:noescape
func maxAVX512(x *float32, n int) (m float32, nan bool)

//go:noescape
func axpyAVX512(alpha float32, x, y *float32, n int)

// maxVec returns the length of the prefix of x the AVX-512 kernel took,
// its largest element and whether it held a NaN.
func maxVec(x []float32) (int, float32, bool) {
	n := avx512Prefix(x)
	if n == 0 {
		return 0, 0, false
	}
	m, nan := maxAVX512(&x[0], n)
	return n, m, nan
}

func axpyVec(alpha float32, x, y []float32) int {
	n := avx512Prefix(x)
	if n == 0 {
		return 0
	}
	axpyAVX512(alpha, &x[0], &y[0], n)
	return n
}

//go:noescape
func mulAVX512(x, y *float32, n int)

func mulVec(x, y []float32) int {
	n := avx512Prefix(x)
	if n == 0 {
		return 0
	}
	mulAVX512(&x[0], &y[0], n)
	return n
}

//go:noescape
func addSum4AVX512(acc, a, b, c, d *float32, n int)

func addSum4Vec(acc, a, b, c, d []float32) int {
	n := avx512Prefix(acc)
	if n == 0 {
		return 0
	}
	addSum4AVX512(&acc[0], &a[0], &b[0], &c[0], &d[0], n)
	return n
}

//go:noescape
func copyRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows, quads int)

// copyRowsVec copies with AVX when the rows are whole groups of 4.
func copyRowsVec(dst []float32, dstStride int, src []float32, srcStride int, rows, width int) bool {
	if impl == pathGo || width%4 != 0 {
		return false
	}
	copyRowsAVX(&dst[0], dstStride, &src[0], srcStride, rows, width/4)
	return true
}
