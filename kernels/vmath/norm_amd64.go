//go:build amd64 && !purego

package vmath

// The AVX-512 row kernels of layernorm_amd64.s; n is a multiple of 16.

//go:noescape
func sumAVX512(x *float32, n int) float32

//go:noescape
func dotAVX512(a, b *float32, n int) float32

//go:noescape
func sumSqDevAVX512(x *float32, n int, m float32) float32

//go:noescape
func normApplyAVX512(y, x, w, b *float32, n int, m, s float32)

//go:noescape
func normGradSumsAVX512(w, dy, x *float32, n int, m, s float32) (gs, gns float32)

//go:noescape
func normGradApplyAVX512(dx, dw, db, w, dy, x *float32, n int, m, s, gMean, gnMean float32)

// avx512Prefix returns the length of x's prefix the AVX-512 kernels take: 0
// on the other paths.
func avx512Prefix(x []float32) int {
	if impl != pathAVX512 {
		return 0
	}
	return len(x) &^ 15
}

func sumVec(x []float32) (int, float32) {
	n := avx512Prefix(x)
	if n == 0 {
		return 0, 0
	}
	return n, sumAVX512(&x[0], n)
}

func dotVec(a, b []float32) (int, float32) {
	n := avx512Prefix(a)
	if n == 0 {
		return 0, 0
	}
	return n, dotAVX512(&a[0], &b[0], n)
}

func sumSqDevVec(x []float32, m float32) (int, float32) {
	n := avx512Prefix(x)
	if n == 0 {
		return 0, 0
	}
	return n, sumSqDevAVX512(&x[0], n, m)
}

func normApplyVec(y, x, w, b []float32, m, s float32) int {
	n := avx512Prefix(x)
	if n == 0 {
		return 0
	}
	var bp *float32
	if b != nil {
		bp = &b[0]
	}
	normApplyAVX512(&y[0], &x[0], &w[0], bp, n, m, s)
	return n
}

func normGradSumsVec(w, dy, x []float32, m, s float32) (int, float32, float32) {
	n := avx512Prefix(x)
	if n == 0 {
		return 0, 0, 0
	}
	g, gn := normGradSumsAVX512(&w[0], &dy[0], &x[0], n, m, s)
	return n, g, gn
}

func normGradApplyVec(dx, dw, db, w, dy, x []float32, m, s, gMean, gnMean float32) int {
	n := avx512Prefix(x)
	if n == 0 {
		return 0
	}
	normGradApplyAVX512(&dx[0], &dw[0], &db[0], &w[0], &dy[0], &x[0], n, m, s, gMean, gnMean)
	return n
}
