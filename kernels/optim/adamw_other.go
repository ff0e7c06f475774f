//go:build !amd64 || purego

package optim

func adamVec(w, g, m, v []float32, k *adamConsts) int { return 0 }

var useAVX512 = false

func sumSquaresVec(x []float32, s *[8]float64) int { return 0 }
