// Package vmath holds vectorised element-wise kernels over float32 slices:
// exp, the fused max-subtract-exp-sum at the heart of softmax, dot products
// and axpy. Exponentials dominate attention time unless vectorised, so Exp
// has AVX-512 and AVX2 versions on amd64 with a pure-Go twin (selected by
// the purego build tag or on other CPUs) that uses the same range reduction
// and polynomial.
//
// Exp follows Cephes expf: x = n·ln2 + r with |r| <= ln2/2, n rounded to
// nearest, ln2 split into a high and a low part so that r is exact, and
// exp(r) ≈ 1 + r + r²·P(r) with a degree-5 minimax polynomial P. Maximum
// relative error is about 2 ulp over [-87.3, 88.7]; results below that
// range are subnormal and reach 0 near -103.9, inputs above it give +Inf.
// The vector path clamps its input first, so NaN inputs give unspecified
// finite values there; softmax inputs are never NaN in a healthy model and
// the loss check catches it when they are.
package vmath
