//go:build amd64 && !purego

package vmath

import "golang.org/x/sys/cpu"

// The AVX-512 kernels are in exp_amd64.s and the AVX2+FMA kernels in
// exp_avx2_amd64.s. expSubSum's n must be a multiple of the lane count (16
// or 8). The column kernels work on one strip of 16 (AVX-512) or 8 (AVX2)
// columns of a row-major matrix with the given row stride in elements.

//go:noescape
func expSubSumAVX512(dst, src *float32, n int, m, lo float32) float32

//go:noescape
func expSubColsAVX512(dst, src *float32, rows, stride int, m, sums *float32)

//go:noescape
func exp2SubColsAVX512(dst, src *float32, rows, stride int, m, sums *float32)

//go:noescape
func maxColsAVX512(m, x *float32, rows, stride int)

//go:noescape
func scaleColsAVX512(x *float32, rows, stride int, s *float32)

//go:noescape
func dotColsAVX512(sums, a, b *float32, rows, stride int)

//go:noescape
func softmaxGradColsAVX512(d, p *float32, rows, stride int, s *float32, scale float32)

//go:noescape
func expSubSumAVX2(dst, src *float32, n int, m, lo float32) float32

//go:noescape
func expSubColsAVX2(dst, src *float32, rows, stride int, m, sums *float32)

//go:noescape
func exp2SubColsAVX2(dst, src *float32, rows, stride int, m, sums *float32)

//go:noescape
func maxColsAVX2(m, x *float32, rows, stride int)

//go:noescape
func scaleColsAVX2(x *float32, rows, stride int, s *float32)

//go:noescape
func dotColsAVX2(sums, a, b *float32, rows, stride int)

//go:noescape
func softmaxGradColsAVX2(d, p *float32, rows, stride int, s *float32, scale float32)

// The AVX-512 path also runs the AVX2 kernels on a last block of 8, so it
// needs both; every CPU with AVX-512F has AVX2 and FMA.
func asmPaths() []path {
	avx2 := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	var ps []path
	if cpu.X86.HasAVX512F && avx2 {
		ps = append(ps, pathAVX512)
	}
	if avx2 {
		ps = append(ps, pathAVX2)
	}
	return ps
}

// expSubSumVec sets dst[i] = exp(src[i] - m), or +0 where that is below
// lo, for the longest prefix of src that the active path vectorises, and
// returns its length and sum.
func expSubSumVec(dst, src []float32, m, lo float32) (n int, s float32) {
	if impl == pathGo {
		return 0, 0
	}
	if impl == pathAVX512 {
		if n = len(src) &^ 15; n > 0 {
			s = expSubSumAVX512(&dst[0], &src[0], n, m, lo)
		}
	}
	if k := (len(src) - n) &^ 7; k > 0 {
		s += expSubSumAVX2(&dst[n], &src[n], k, m, lo)
		n += k
	}
	return n, s
}

func expImpl(dst, src []float32) {
	n, _ := expSubSumVec(dst, src, 0, 0) // results below 0: none flushed
	expGo(dst[n:], src[n:])
}

func expSubSumImpl(dst, src []float32, m float32) float32 {
	n, s := expSubSumVec(dst, src, m, minNormal)
	return s + expSubSumGo(dst[n:], src[n:], m)
}

// strips16 returns how many leading columns of a width-w matrix go through
// 16-column AVX-512 strips; the rest (a multiple of 8) go through AVX2.
func strips16(w int) int {
	if impl == pathAVX512 {
		return w &^ 15
	}
	return 0
}

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
	r := len(x) / w
	if r == 0 {
		return
	}
	c, c16 := 0, strips16(w)
	for ; c < c16; c += 16 {
		maxColsAVX512(&m[c], &x[c], r, w)
	}
	for ; c < w; c += 8 {
		maxColsAVX2(&m[c], &x[c], r, w)
	}
}

func expSubColsImpl(dst, src, m, sums []float32)  { expColsImpl(dst, src, m, sums, false) }
func exp2SubColsImpl(dst, src, m, sums []float32) { expColsImpl(dst, src, m, sums, true) }

// expColsImpl runs a column exponential's strips, in base 2 or e: of 16
// columns on the AVX-512 path, then of 8.
func expColsImpl(dst, src, m, sums []float32, base2 bool) {
	w := len(m)
	_ = sums[w-1]
	r := rowsOf(w, src, dst)
	if r == 0 {
		return
	}
	c, c16 := 0, strips16(w)
	for ; c < c16; c += 16 {
		if base2 {
			exp2SubColsAVX512(&dst[c], &src[c], r, w, &m[c], &sums[c])
		} else {
			expSubColsAVX512(&dst[c], &src[c], r, w, &m[c], &sums[c])
		}
	}
	for ; c < w; c += 8 {
		if base2 {
			exp2SubColsAVX2(&dst[c], &src[c], r, w, &m[c], &sums[c])
		} else {
			expSubColsAVX2(&dst[c], &src[c], r, w, &m[c], &sums[c])
		}
	}
}

func scaleColsImpl(x, s []float32) {
	w := len(s)
	r := len(x) / w
	if r == 0 {
		return
	}
	c, c16 := 0, strips16(w)
	for ; c < c16; c += 16 {
		scaleColsAVX512(&x[c], r, w, &s[c])
	}
	for ; c < w; c += 8 {
		scaleColsAVX2(&x[c], r, w, &s[c])
	}
}

func dotColsImpl(sums, a, b []float32) {
	w := len(sums)
	r := rowsOf(w, a, b)
	if r == 0 {
		return
	}
	c, c16 := 0, strips16(w)
	for ; c < c16; c += 16 {
		dotColsAVX512(&sums[c], &a[c], &b[c], r, w)
	}
	for ; c < w; c += 8 {
		dotColsAVX2(&sums[c], &a[c], &b[c], r, w)
	}
}

func softmaxGradColsImpl(d, p, s []float32, scale float32) {
	w := len(s)
	r := rowsOf(w, d, p)
	if r == 0 {
		return
	}
	c, c16 := 0, strips16(w)
	for ; c < c16; c += 16 {
		softmaxGradColsAVX512(&d[c], &p[c], r, w, &s[c], scale)
	}
	for ; c < w; c += 8 {
		softmaxGradColsAVX2(&d[c], &p[c], r, w, &s[c], scale)
	}
}
