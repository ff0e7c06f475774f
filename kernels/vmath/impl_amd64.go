//go:build amd64 && !purego

package vmath

func expImpl(dst, src []float32)                          { expGo(dst, src) }
func expSubSumImpl(dst, src []float32, m float32) float32 { return expSubSumGo(dst, src, m) }
