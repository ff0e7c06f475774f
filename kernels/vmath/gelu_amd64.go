//go:build amd64 && !purego

package vmath

// The GELU kernels are in gelu_amd64.s and geluerf_amd64.s (AVX-512) and
// gelu_avx2_amd64.s and geluerf_avx2_amd64.s (AVX2+FMA); n must be a
// multiple of the lane count (16 or 8).

//go:noescape
func geluTanhAVX512(dst, x *float32, n int)

//go:noescape
func geluTanhGradAVX512(dx, x, dy *float32, n int, set bool)

//go:noescape
func geluTanhAVX2(dst, x *float32, n int)

//go:noescape
func geluTanhGradAVX2(dx, x, dy *float32, n int)

//go:noescape
func geluErfAVX512(dst, x *float32, n int)

//go:noescape
func geluErfGradAVX512(dx, x, dy *float32, n int)

//go:noescape
func geluErfAVX2(dst, x *float32, n int)

//go:noescape
func geluErfGradAVX2(dx, x, dy *float32, n int)

// geluForm selects the tanh or the erf kernels.
type geluForm bool

const (
	formTanh geluForm = false
	formErf  geluForm = true
)

func geluTanhImpl(dst, x []float32)          { geluVec(formTanh, dst, x) }
func geluTanhGradImpl(dx, x, dy []float32)   { geluGradVec(formTanh, dx, x, dy, false) }
func geluTanhGradToImpl(dx, x, dy []float32) { geluGradVec(formTanh, dx, x, dy, true) }
func geluErfImpl(dst, x []float32)           { geluVec(formErf, dst, x) }
func geluErfGradImpl(dx, x, dy []float32)    { geluGradVec(formErf, dx, x, dy, false) }

// geluVec runs blocks of 16 (AVX-512 only), then of 8, and the last few
// elements through the 8-lane kernel in a zero-padded buffer, so that an
// element's result does not depend on where it lies in the slice.
func geluVec(f geluForm, dst, x []float32) {
	if impl == pathGo {
		if f == formErf {
			geluErfGo(dst, nil, x, nil)
		} else {
			geluTanhGo(dst, x)
		}
		return
	}
	n := 0
	if impl == pathAVX512 {
		if n = len(x) &^ 15; n > 0 {
			if f == formErf {
				geluErfAVX512(&dst[0], &x[0], n)
			} else {
				geluTanhAVX512(&dst[0], &x[0], n)
			}
		}
	}
	if k := (len(x) - n) &^ 7; k > 0 {
		gelu8(f, &dst[n], &x[n], k)
		n += k
	}
	if n < len(x) {
		var b [8]float32
		copy(b[:], x[n:])
		gelu8(f, &b[0], &b[0], 8)
		copy(dst[n:], b[:])
	}
}

func gelu8(f geluForm, dst, x *float32, n int) {
	if f == formErf {
		geluErfAVX2(dst, x, n)
	} else {
		geluTanhAVX2(dst, x, n)
	}
}

// geluGradVec splits the work as geluVec does. With set (tanh form only)
// dx is overwritten, with the bits of clearing it and accumulating.
func geluGradVec(f geluForm, dx, x, dy []float32, set bool) {
	if set && (impl != pathAVX512 || f != formTanh) {
		clear(dx)
		set = false
	}
	if impl == pathGo {
		if f == formErf {
			geluErfGo(nil, dx, x, dy)
		} else {
			geluTanhGradGo(dx, x, dy)
		}
		return
	}
	n := 0
	if impl == pathAVX512 {
		if n = len(x) &^ 15; n > 0 {
			if f == formErf {
				geluErfGradAVX512(&dx[0], &x[0], &dy[0], n)
			} else {
				geluTanhGradAVX512(&dx[0], &x[0], &dy[0], n, set)
			}
		}
	}
	if set {
		clear(dx[n:]) // the tail accumulates
	}
	if k := (len(x) - n) &^ 7; k > 0 {
		geluGrad8(f, &dx[n], &x[n], &dy[n], k)
		n += k
	}
	if n < len(x) {
		var bdx, bx, bdy [8]float32
		copy(bdx[:], dx[n:])
		copy(bx[:], x[n:])
		copy(bdy[:], dy[n:])
		geluGrad8(f, &bdx[0], &bx[0], &bdy[0], 8)
		copy(dx[n:], bdx[:])
	}
}

func geluGrad8(f geluForm, dx, x, dy *float32, n int) {
	if f == formErf {
		geluErfGradAVX2(dx, x, dy, n)
	} else {
		geluTanhGradAVX2(dx, x, dy, n)
	}
}
