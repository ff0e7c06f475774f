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

const hasCols = false

func maxColsImpl(m, x []float32)                           {}
func expSubColsImpl(dst, src, m, sums []float32)           {}
func scaleColsImpl(x, s []float32)                         {}
func dotColsImpl(sums, a, b []float32)                     {}
func softmaxGradColsImpl(d, p, s []float32, scale float32) {}
