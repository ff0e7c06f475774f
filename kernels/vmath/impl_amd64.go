//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

// expSubSumAVX512 is in exp_amd64.s; n must be a multiple of 16.
//
//go:noescape
func expSubSumAVX512(dst, src *float32, n int, m float32) float32

var hasAVX512 = cpu.X86.HasAVX512F

func expImpl(dst, src []float32) {
	n := len(src) &^ 15
	if !hasAVX512 || n == 0 {
		expGo(dst, src)
		return
	}
	expSubSumAVX512(&dst[0], &src[0], n, 0)
	expGo(dst[n:], src[n:])
}

func expSubSumImpl(dst, src []float32, m float32) float32 {
	n := len(src) &^ 15
	if !hasAVX512 || n == 0 {
		return expSubSumGo(dst, src, m)
	}
	s := expSubSumAVX512(&dst[0], &src[0], n, m)
	return s + expSubSumGo(dst[n:], src[n:], m)
}

// The column kernels work on one 16-column strip of a row-major matrix
// with the given row stride (in elements); see exp_amd64.s.

//go:noescape
func expSubColsAVX512(dst, src *float32, rows, stride int, m, sums *float32)

//go:noescape
func maxColsAVX512(m, x *float32, rows, stride int)

//go:noescape
func scaleColsAVX512(x *float32, rows, stride int, s *float32)

//go:noescape
func dotColsAVX512(sums, a, b *float32, rows, stride int)

//go:noescape
func softmaxGradColsAVX512(d, p *float32, rows, stride int, s *float32, scale float32)

var hasCols = hasAVX512

// rowsOf returns how many whole rows of width w the slices hold, after
// checking that every slice has them, so the assembly never reads past a
// slice.
func rowsOf(w int, xs ...[]float32) int {
	r := len(xs[0]) / w
	for _, x := range xs[1:] {
		if len(x) < r*w {
			panic("vmath: column operands have different numbers of rows")
		}
	}
	return r
}

func maxColsImpl(m, x []float32) {
	w := len(m)
	if r := len(x) / w; r > 0 {
		for c := 0; c < w; c += 16 {
			maxColsAVX512(&m[c], &x[c], r, w)
		}
	}
}

func expSubColsImpl(dst, src, m, sums []float32) {
	w := len(m)
	_ = sums[w-1]
	if r := rowsOf(w, src, dst); r > 0 {
		for c := 0; c < w; c += 16 {
			expSubColsAVX512(&dst[c], &src[c], r, w, &m[c], &sums[c])
		}
	}
}

func scaleColsImpl(x, s []float32) {
	w := len(s)
	if r := len(x) / w; r > 0 {
		for c := 0; c < w; c += 16 {
			scaleColsAVX512(&x[c], r, w, &s[c])
		}
	}
}

func dotColsImpl(sums, a, b []float32) {
	w := len(sums)
	if r := rowsOf(w, a, b); r > 0 {
		for c := 0; c < w; c += 16 {
			dotColsAVX512(&sums[c], &a[c], &b[c], r, w)
		}
	}
}

func softmaxGradColsImpl(d, p, s []float32, scale float32) {
	w := len(s)
	if r := rowsOf(w, d, p); r > 0 {
		for c := 0; c < w; c += 16 {
			softmaxGradColsAVX512(&d[c], &p[c], r, w, &s[c], scale)
		}
	}
}
