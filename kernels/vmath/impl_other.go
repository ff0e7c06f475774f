//go:build !amd64 || purego

package vmath

func expImpl(dst, src []float32)                          { expGo(dst, src) }
func expSubSumImpl(dst, src []float32, m float32) float32 { return expSubSumGo(dst, src, m) }

const hasCols = false

func maxColsImpl(m, x []float32)                           {}
func expSubColsImpl(dst, src, m, sums []float32)           {}
func scaleColsImpl(x, s []float32)                         {}
func dotColsImpl(sums, a, b []float32)                     {}
func softmaxGradColsImpl(d, p, s []float32, scale float32) {}
