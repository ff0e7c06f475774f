//go:build amd64 && !purego

package optim

import "golang.org/x/sys/cpu"

// adamwAVX512 is in adamw_amd64.s.
//
//go:noescape
func adamwAVX512(w, grad, m, v *float32, n int, k *adamConsts)

// adamVec updates the first multiple of 16 elements with AVX-512 and
// returns how many it did (0 without AVX-512).
func adamVec(w, g, m, v []float32, k *adamConsts) int {
	n := len(w) &^ 15
	if n == 0 || !useAVX512 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	adamwAVX512(&w[0], &g[0], &m[0], &v[0], n, k)
	return n
}

// useAVX512 selects the assembly loop; tests turn it off to check that
// both paths give the same bits.
var useAVX512 = cpu.X86.HasAVX512F

// sumSquaresAVX512 is in sumsq_amd64.s.
//
//go:noescape
func sumSquaresAVX512(x *float32, n int, s *[8]float64)

// sumSquaresVec adds the squares of the first multiple of 8 elements of x
// into the partial sums s with AVX-512 and returns how many it did (0
// without AVX-512).
func sumSquaresVec(x []float32, s *[8]float64) int {
	n := len(x) &^ 7
	if n == 0 || !useAVX512 {
		return 0
	}
	sumSquaresAVX512(&x[0], n, s)
	return n
}
