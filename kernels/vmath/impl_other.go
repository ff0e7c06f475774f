//go:build !amd64 || purego

package vmath

func asmPaths() []path { return nil }

func expImpl(dst, src []float32)                          { expGo(dst, src) }
func expSubSumImpl(dst, src []float32, m float32) float32 { return expSubSumGo(dst, src, m) }

// The column operations never call these: vectorCols is false on the Go path.

func maxColsImpl(m, x []float32)                           {}
func expSubColsImpl(dst, src, m, sums []float32)           {}
func exp2SubColsImpl(dst, src, m, sums []float32)          {}
func scaleColsImpl(x, s []float32)                         {}
func dotColsImpl(sums, a, b []float32)                     {}
func softmaxGradColsImpl(d, p, s []float32, scale float32) {}

func geluTanhImpl(dst, x []float32)        { geluTanhGo(dst, x) }
func geluTanhGradImpl(dx, x, dy []float32) { geluTanhGradGo(dx, x, dy) }
func geluErfImpl(dst, x []float32)         { geluErfGo(dst, nil, x, nil) }
func geluErfGradImpl(dx, x, dy []float32)  { geluErfGo(nil, dx, x, dy) }

func geluTanhGradToImpl(dx, x, dy []float32) {
	clear(dx)
	geluTanhGradGo(dx, x, dy)
}

func sumVec(x []float32) (int, float32)                                        { return 0, 0 }
func dotVec(a, b []float32) (int, float32)                                     { return 0, 0 }
func sumSqDevVec(x []float32, m float32) (int, float32)                        { return 0, 0 }
func normApplyVec(y, x, w, b []float32, m, s float32) int                      { return 0 }
func normGradSumsVec(w, dy, x []float32, m, s float32) (int, float32, float32) { return 0, 0, 0 }
func normGradApplyVec(dx, dw, db, w, dy, x []float32, m, s, gMean, gnMean float32) int {
	return 0
}

func maxVec(x []float32) (int, float32, bool)   { return 0, 0, false }
func axpyVec(alpha float32, x, y []float32) int { return 0 }
func copyRowsVec(dst []float32, dstStride int, src []float32, srcStride int, rows, width int) bool {
	return false
}

func mulVec(x, y []float32) int { return 0 }

func addSum4Vec(acc, a, b, c, d []float32) int { return 0 }
