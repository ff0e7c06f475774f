//go:build amd64 && !purego

package vmath

// The GELU kernels are in gelu_amd64.s (AVX-512) and gelu_avx2_amd64.s
// (AVX2+FMA); n must be a multiple of the lane count (16 or 8).

//go:noescape
func geluTanhAVX512(dst, x *float32, n int)

//go:noescape
func geluTanhGradAVX512(dx, x, dy *float32, n int)

//go:noescape
func geluTanhAVX2(dst, x *float32, n int)

//go:noescape
func geluTanhGradAVX2(dx, x, dy *float32, n int)

// geluTanhImpl runs blocks of 16 (AVX-512 only), then of 8, and the last
// few elements through the 8-lane kernel in a zero-padded buffer, so that
// an element's result does not depend on where it lies in the slice.
func geluTanhImpl(dst, x []float32) {
	if impl == pathGo {
		geluTanhGo(dst, x)
		return
	}
	n := 0
	if impl == pathAVX512 {
		if n = len(x) &^ 15; n > 0 {
			geluTanhAVX512(&dst[0], &x[0], n)
		}
	}
	if k := (len(x) - n) &^ 7; k > 0 {
		geluTanhAVX2(&dst[n], &x[n], k)
		n += k
	}
	if n < len(x) {
		var b [8]float32
		copy(b[:], x[n:])
		geluTanhAVX2(&b[0], &b[0], 8)
		copy(dst[n:], b[:])
	}
}

// geluTanhGradImpl splits the work as geluTanhImpl does.
func geluTanhGradImpl(dx, x, dy []float32) {
	if impl == pathGo {
		geluTanhGradGo(dx, x, dy)
		return
	}
	n := 0
	if impl == pathAVX512 {
		if n = len(x) &^ 15; n > 0 {
			geluTanhGradAVX512(&dx[0], &x[0], &dy[0], n)
		}
	}
	if k := (len(x) - n) &^ 7; k > 0 {
		geluTanhGradAVX2(&dx[n], &x[n], &dy[n], k)
		n += k
	}
	if n < len(x) {
		var bdx, bx, bdy [8]float32
		copy(bdx[:], dx[n:])
		copy(bx[:], x[n:])
		copy(bdy[:], dy[n:])
		geluTanhGradAVX2(&bdx[0], &bx[0], &bdy[0], 8)
		copy(dx[n:], bdx[:])
	}
}
