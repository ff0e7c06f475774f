package blas

import "fmt"

// checkGemm panics with a precise message when the dimensions and slices of
// a Gemm call do not fit. The tensor-level MatMul returns these problems as
// errors instead; reaching this panic is a programming error.
func checkGemm(op string, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("blas.%s: negative dimension m=%d n=%d k=%d", op, m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	need := func(name string, s []float32, rows, cols, ld int) {
		if ld < cols {
			panic(fmt.Sprintf("blas.%s: %s is %d×%d but its leading dimension is %d (must be at least %d)", op, name, rows, cols, ld, cols))
		}
		if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("blas.%s: %s is %d×%d with leading dimension %d and needs %d elements, has %d", op, name, rows, cols, ld, (rows-1)*ld+cols, len(s)))
		}
	}
	need("A", a, ar, ac, lda)
	need("B", b, br, bc, ldb)
	need("C", c, m, n, ldc)
}
